"""Evaluate a saved pair; prints one JSON object on stdout.

    python -m explorer.evaluate DIR --samples 2500 --seed 0
    python -m explorer.evaluate DIR --points heldout.csv   # NLL of points a user brings

For 2-D data: mode coverage (mixtures), log Z by quadrature with the mass outside the box, NLL of
held-out data, KL / total variation to the true mixture, energy means. For digits: classes
covered and KL of the class histogram to uniform. Definitions: explorer/measures/metrics.py.
"""
from __future__ import annotations

import json

import numpy as np

from explorer.command_line import ArgumentParser, main_guard, set_threads
from explorer.config.build import build_dataset, pick_device
from explorer.config.options import OPTION_BY_NAME, resolve
from explorer.data.points import load_points
from explorer.errors import UserInputError
from explorer.measures.evaluation import evaluate_pair
from models import load_pair


def check_data_record(data, data_dim: int, folder: str) -> dict:
    """The config's "data" entry (box, standardisation), checked before anything uses it."""
    def bad(what: str):
        return UserInputError(f"{folder}/config.json: {what}")
    if not isinstance(data, dict):
        raise bad("'data' must be an object")
    checked = {}
    for key, length in (("bounds", 4), ("offset", 2), ("scale", 2)):
        value = data.get(key)
        if value is None:
            continue
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise bad(f"data.{key} must be a list of {length} numbers") from None
        if array.shape != (length,) or not np.isfinite(array).all():
            raise bad(f"data.{key} must be a list of {length} finite numbers")
        checked[key] = array
    if ("offset" in checked) != ("scale" in checked) or ("scale" in checked and (checked["scale"] <= 0).any()):
        raise bad("data.offset and data.scale come together, with a positive scale")
    if data_dim == 2 and "bounds" not in checked:
        raise bad("a 2-D pair needs data.bounds, the box its density is normalised on")
    if "bounds" in checked:
        b = checked["bounds"]
        if not (b[0] < b[1] and b[2] < b[3]):
            raise bad("data.bounds must be [xmin, xmax, ymin, ymax] with min < max")
    return checked


def main(argv=None) -> None:
    parser = ArgumentParser(prog="explorer.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", help="a folder written by explorer.train (config.json + model.safetensors)")
    parser.add_argument("--samples", type=int, default=2500, help="model samples to draw (default 2500)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the samples (default 0)")
    parser.add_argument("--points", help="held-out points (.csv/.npy, N x 2, original units) to score; "
                                         "their NLL is reported in the training standardisation's units")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_threads_flag()
    args = parser.parse_args(argv)
    set_threads(args.threads)
    if not 10 <= args.samples <= 1_000_000:
        raise UserInputError(f"--samples must be between 10 and 1000000, got {args.samples}")
    seed = OPTION_BY_NAME["seed"]   # the bounds of training's seed
    if not seed.low <= args.seed <= seed.high:
        raise UserInputError(f"--seed must be between {seed.low} and {seed.high}, got {args.seed}")

    energy, generator, config = load_pair(args.folder, pick_device(args.device))
    options = config.get("options")
    if not isinstance(options, dict):
        raise UserInputError(f"{args.folder}/config.json has no training options; was it written by explorer.train?")
    options = resolve(given=options)  # checked like flags; a points path is kept, not read
    data = check_data_record(config.get("data"), energy.config.data_dim, args.folder)
    # user points are not stored with the pair: score the held-out file, if any, on the saved box
    dataset = None if options["dataset"] == "points" else build_dataset(options)
    if dataset is not None and dataset.dim != energy.config.data_dim:
        raise UserInputError(f"{args.folder}: the pair models {energy.config.data_dim}-D data but its options "
                             f"name the {dataset.dim}-D {options['dataset']!r} dataset")
    heldout = None
    if args.points:
        if energy.config.data_dim != 2:
            raise UserInputError("--points applies to pairs trained on 2-D data")
        heldout = load_points(args.points).astype(np.float64)
        if "offset" in data:  # standardise exactly as the training points were
            heldout = (heldout - data["offset"]) / data["scale"]
        heldout = heldout.astype(np.float32)
    bounds = tuple(float(v) for v in data["bounds"]) if "bounds" in data else None
    result = evaluate_pair(energy, generator, options, dataset, samples=args.samples, seed=args.seed,
                           heldout=heldout, bounds=bounds)
    print(json.dumps(result))


def run() -> None:
    """The console script (`energylab-evaluate`) and `python -m explorer.evaluate`."""
    main_guard(main, "explorer.evaluate")


if __name__ == "__main__":
    run()

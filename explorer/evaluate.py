"""Evaluate a saved pair; prints one JSON object on stdout.

    python -m explorer.evaluate DIR --samples 2500 --seed 0
    python -m explorer.evaluate DIR --points heldout.csv   # NLL of points a user brings

For 2-D data: mode coverage (mixtures), log Z by quadrature with the mass outside the box, NLL of
held-out data, KL / total variation to the true mixture, energy means. For digits: classes
covered and KL of the class histogram to uniform. Definitions: explorer/metrics.py.
"""
from __future__ import annotations

import json

import numpy as np

from models import load_pair

from . import options as opts
from .cli import ArgumentParser, main_guard, set_threads
from .datasets import load_points
from .errors import UserInputError
from .evaluation import evaluate_pair
from .experiment import build_dataset, pick_device


def main(argv=None) -> None:
    parser = ArgumentParser(prog="explorer.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", help="a folder written by explorer.train (config.json + model.safetensors)")
    parser.add_argument("--samples", type=int, default=2500, help="model samples to draw (default 2500)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the samples (default 0)")
    parser.add_argument("--points", help="held-out points (.csv/.npy, N x 2, original units) to score")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_threads_flag()
    args = parser.parse_args(argv)
    set_threads(args.threads)
    if not 10 <= args.samples <= 1_000_000:
        raise UserInputError(f"--samples must be between 10 and 1000000, got {args.samples}")
    if args.seed < 0:
        raise UserInputError(f"--seed must be 0 or more, got {args.seed}")

    energy, generator, config = load_pair(args.folder, pick_device(args.device))
    options = config.get("options")
    data = config.get("data") or {}
    if not isinstance(options, dict):
        raise UserInputError(f"{args.folder}/config.json has no training options; was it written by explorer.train?")
    if options.get("dataset") != "points":  # user points are not stored with the pair
        options = opts.resolve(given=options)
    # user points are not stored with the pair: score the held-out file, if any, on the saved box
    dataset = None if options["dataset"] == "points" else build_dataset(options)
    heldout = None
    if args.points:
        if energy.config.data_dim != 2:
            raise UserInputError("--points applies to pairs trained on 2-D data")
        heldout = load_points(args.points).astype(np.float64)
        if "offset" in data:  # standardise exactly as the training points were
            heldout = (heldout - np.asarray(data["offset"])) / np.asarray(data["scale"])
        heldout = heldout.astype(np.float32)
    bounds = tuple(data["bounds"]) if data.get("bounds") else None
    result = evaluate_pair(energy, generator, options, dataset, samples=args.samples, seed=args.seed,
                           heldout=heldout, bounds=bounds)
    print(json.dumps(result))


if __name__ == "__main__":
    main_guard(main, "explorer.evaluate")

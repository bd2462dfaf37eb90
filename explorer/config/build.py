"""From resolved options (explorer/config/options.py) to the objects they describe: data, networks, config."""
from __future__ import annotations

import hashlib

import numpy as np
import torch

from explorer.config.options import OPTION_BY_NAME
from explorer.data.datasets import Dataset, make_dataset
from explorer.data.mode_width import MAX_POINTS, mode_width
from explorer.errors import UserInputError
from explorer.seeds import FRAME_SEED
from models import NOISY_ESTIMATORS, DeepEnergy, EnergyConfig, Generator, GeneratorConfig, LangevinConfig, TrainConfig


def build_dataset(options: dict) -> Dataset:
    name = options["dataset"]
    params = {"modes": options["modes"], "radius": options["radius"], "spacing": options["spacing"],
              "std": options["std"], "points_path": options["points"]}
    return make_dataset(name, **{k: v for k, v in params.items() if v is not None})


FRAME_SAMPLES = 100_000   # draws that measure a shape's mean and spread (no closed form; a mixture has one)
Frame = tuple[tuple[float, ...] | None, float]   # (centre, unit): the networks' frame in data units


def data_moments(dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """The training data's mean and per-axis variance, float64 (2,): exact for a mixture,
        mean = sum_k w_k mu_k,    var = sum_k w_k (mu_k - mean)^2 + std^2    (per axis);
    of the points themselves for a finite set; of FRAME_SAMPLES draws (a fixed stream, FRAME_SEED:
    a property of the data, the same for every run's seed) for a shape."""
    if dataset.mixture is not None:
        mixture = dataset.mixture
        mean = mixture.weights @ mixture.centers
        return mean, mixture.weights @ (mixture.centers - mean) ** 2 + mixture.std ** 2
    points = dataset.points if dataset.points is not None else dataset.sample(
        FRAME_SAMPLES, np.random.default_rng(FRAME_SEED))
    points = np.asarray(points, dtype=np.float64)
    return points.mean(axis=0), points.var(axis=0)


_MODE_WIDTHS: dict[str, float] = {}   # by the points' bytes: a dataset measured once per process


def data_mode_width(dataset: Dataset) -> float:
    """The width of the training data's modes (explorer/data/mode_width.py), from the points
    themselves or from MAX_POINTS draws (the most it reads) of the fixed stream FRAME_SEED, measured
    the same way for every dataset (a mixture's known std is not used: a user's points have none)."""
    points = dataset.points if dataset.points is not None else dataset.sample(
        MAX_POINTS, np.random.default_rng(FRAME_SEED))
    points = np.ascontiguousarray(points)
    fingerprint = hashlib.sha1(points.tobytes()).hexdigest() + str(points.shape)
    if fingerprint not in _MODE_WIDTHS:
        _MODE_WIDTHS[fingerprint] = mode_width(points)
    return _MODE_WIDTHS[fingerprint]


def data_frame(options: dict, dataset: Dataset) -> Frame:
    """The networks' frame (centre, unit): with `standardise`, from the training data, centre = its
    mean and unit = its pooled standard deviation sqrt(mean_d var_d), at most --mode-frame times
    its modes' width (when set), divided by --frame-scale;
    otherwise the origin and --unit.

    Pooled, not per axis: one unit for both axes makes the change of frame a similarity (a shift and
    one scale), so the networks see the data's own shape: a ring stays a ring and a grid a square,
    where dividing each axis by its own std would stretch a wide ring into another shape (and change
    the distances between its modes that the energy's wells and the kNN entropy measure)."""
    if not options.get("standardise"):
        return None, options.get("unit") or 1.0   # pairs saved before the option existed: data units
    if dataset.dim != 2:
        raise UserInputError("--standardise applies to 2-D data only (images already lie in [-1, 1])")
    mean, variance = data_moments(dataset)
    pooled = float(np.sqrt(variance.mean()))
    # --mode-frame c: no coarser than c times the modes' width. As a ratio pooled / (c width), a
    # property of the data's shape whatever its scale, rounded to 3 significant figures so that the
    # same data, scaled or on another CPU, get the same frame (tests/test_scale_free.py)
    finer = 1.0
    if options.get("mode_frame"):
        finer = max(1.0, float(f"{pooled / (options['mode_frame'] * data_mode_width(dataset)):.3g}"))
    # --frame-scale k: k times finer again (older options: 1)
    unit = pooled / finer / (options.get("frame_scale") or 1.0)
    low, high = OPTION_BY_NAME["unit"].low, OPTION_BY_NAME["unit"].high   # as models/energy.py check_unit
    if not low <= unit <= high:
        raise UserInputError(f"--standardise: the data's standard deviation is {unit:.3g}, outside the networks' "
                             f"units {low:g} to {high:g}; rescale the data")
    return tuple(float(m) for m in mean), unit


def langevin_step_in_data_units(options: dict, unit: float) -> float:
    """--langevin-step-size as a step in data units. With `standardise` the step is eps' in the
    networks' frame y = (x - centre) / unit; Langevin there,
        y <- y - (eps'/2) grad_y E + sqrt(eps') n,    grad_y E = unit * grad_x E,
    is in data units x <- x - (unit^2 eps' / 2) grad_x E + unit sqrt(eps') n: the same dynamics with
    eps = unit^2 eps'. Without it the step is in data units, as before the option existed."""
    eps = options["langevin_step_size"]
    return eps * unit ** 2 if options.get("standardise") else eps


def model_configs(options: dict, data_dim: int, frame: Frame | None = None) -> tuple[EnergyConfig, GeneratorConfig]:
    """The networks' configs; `frame` (data_frame's (centre, unit)) is needed with `standardise`."""
    images = data_dim > 2
    if frame is None:
        if options.get("standardise"):
            raise ValueError("a standardised experiment's networks need the data's frame (data_frame)")
        frame = (None, options.get("unit") or 1.0)   # pairs saved before the option existed: data units
    centre, unit = frame
    if images and unit != 1.0:
        raise UserInputError("--unit applies to 2-D data only (images already lie in [-1, 1])")
    energy_width = options["energy_hidden"] or options["hidden"]
    energy = EnergyConfig(data_dim=data_dim, hidden=energy_width, experts=energy_width,
                          extractor=options["extractor"] if images else "mlp",
                          # digits live in [-1, 1]: a wide prior would only be a nuisance there
                          use_prior=not images, unit=unit, centre=centre,
                          spectral_norm=bool(options.get("spectral_norm", False)),   # older options: off
                          # an adapting step starts at the experiment's (models/langevin.py adapted_step)
                          langevin_step=langevin_step_in_data_units(options, unit)
                          if options.get("step_acceptance") else None)
    generator = GeneratorConfig(data_dim=data_dim, latent_dim=options["latent_dim"], hidden=options["hidden"],
                                depth=options["generator_depth"], output="tanh" if images else "linear", unit=unit,
                                centre=centre,
                                # VERA's estimator needs a generator with learned output noise (models/entropy_vera.py)
                                noise=options["entropy"] in NOISY_ESTIMATORS)
    return energy, generator


def train_config(options: dict, dataset: Dataset, unit: float = 1.0) -> TrainConfig:
    """`unit`: the networks' unit (data_frame), which scales the Langevin step with `standardise`."""
    # Langevin chains (re)start from uniform noise over the data's box ([-1, 1] for digits)
    low, high = (min(dataset.bounds), max(dataset.bounds)) if dataset.bounds else (-1.0, 1.0)
    return TrainConfig(
        sampler=options["sampler"], entropy=options["entropy"], entropy_weight=options["entropy_weight"],
        lr_energy=options["lr_energy"], lr_generator=options["lr_generator"],
        compile=bool(options.get("compile", False)),   # options built before the setting existed: eager
        # the energy's regularisers (models/regularisers.py); options from before they existed: off
        energy_magnitude=options.get("energy_magnitude", 0.0), gradient_penalty=options.get("gradient_penalty", 0.0),
        energy_weight_decay=options.get("energy_weight_decay", 0.0),
        # options built before these settings existed: off
        refine=options.get("refine") or 0, ema=options.get("ema") or 0.0, importance=options.get("importance") or 0.0,
        importance_floor=options.get("importance_floor") or 0.0,
        floor_uniform=bool(options.get("floor_uniform", True)),
        floor_margin=options.get("floor_margin") or 0.0,
        uniform_negatives=options.get("uniform_negatives") or 0.0,
        step_acceptance=options.get("step_acceptance") or 0.0,
        langevin=LangevinConfig(steps=options["langevin_steps"],
                                step_size=langevin_step_in_data_units(options, unit), init_low=low, init_high=high,
                                metropolis=bool(options.get("metropolis", False))))   # before it existed: off


def build_models(options: dict, data_dim: int, device: str, frame: Frame | None = None) -> tuple[DeepEnergy, Generator]:
    """Fresh networks, initialised from the experiment's seed, in `frame` (data_frame; needed with standardise)."""
    energy_config, generator_config = model_configs(options, data_dim, frame)
    torch.manual_seed(options["seed"])  # weight initialisation is the one draw not from our own stream
    return DeepEnergy(energy_config).to(device), Generator(generator_config).to(device)


def pick_device(name: str) -> str:
    """'auto' -> cuda when present, else cpu; 'cuda' without a GPU is a clear error."""
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise UserInputError("--device cuda was asked for, but no CUDA GPU is available; use --device cpu")
    if name not in ("cpu", "cuda"):
        raise UserInputError(f"--device must be auto, cpu or cuda; got {name!r}")
    return name


def data_record(dataset: Dataset) -> dict:
    """What config.json keeps about the data beyond the options: the plot box and, for user
    points, the standardisation, so held-out points can be mapped the same way."""
    record = {"dim": dataset.dim, "bounds": list(dataset.bounds) if dataset.bounds else None}
    if dataset.offset is not None:
        record["offset"] = np.asarray(dataset.offset, dtype=float).tolist()
        record["scale"] = np.asarray(dataset.scale, dtype=float).tolist()
    return record

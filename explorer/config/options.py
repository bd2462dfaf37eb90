"""Every setting of an experiment, with its default, bounds and meaning, in one table.

The command line, the app's controls and the checkpoints all read this table, so a setting is
named, bounded and checked the same way everywhere. An experiment is one `Experiment` of these
settings ("options"), typed and immutable; `resolve` layers defaults, a dataset's defaults, a preset
and what the user gave, checks every value and returns it. A run is built from it, and a live change
reaches the run as a new Experiment (explorer/training/run.py, Run.reconfigure).
"""
from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace

from explorer.config.dataset_defaults import DATASET_DEFAULTS
from explorer.data.datasets import DATASET_NAMES
from explorer.data.mixtures import MAX_MODES, MIXTURE_PARAMETERS, is_square_number
from explorer.errors import UserInputError
from models import ESTIMATORS, NOISY_ESTIMATORS, SAMPLERS


@dataclass(frozen=True)
class Option:
    name: str
    kind: type                     # int, float, str or bool
    default: object                # None: set by the dataset's defaults, or not used
    low: float | None = None       # inclusive bounds for numbers
    high: float | None = None
    choices: tuple | None = None   # allowed values for strings
    help: str = ""
    live: bool = False             # a run takes a change between steps; any other change needs a new run

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


# The defaults are EnergyLab's method (`method` energylab), chosen from the calibration study
# (docs/studies.md): the data's own frame (standardise), a real entropy estimate (knn), generator samples
# refined by 5 Langevin steps on E (refine, CoopNets), negatives weighted towards p_E (importance, with a
# floor, and a few uniform ones) so the wells' depths follow the data, and samples resampled towards p_E.
# Each fixes one failure of the paper's setting (docs/method.md); `method` paper is that setting.
OPTIONS: tuple[Option, ...] = (
    Option("dataset", str, "ring", choices=DATASET_NAMES, help="training data"),
    Option("modes", int, None, 1, MAX_MODES, help="ring/grid: number of mixture components (grid: a square)"),
    Option("radius", float, None, 0.1, 50.0, help="ring: radius of the circle of modes"),
    Option("spacing", float, None, 0.1, 50.0, help="grid: distance between neighbouring modes"),
    Option("std", float, None, 0.01, 10.0, help="ring/grid: standard deviation of each mode"),
    Option("points", str, None, help="points: a .csv or .npy file of N x 2 numbers (standardised), or "
                                      "bundled:NAME[:train|:heldout[:PERCENT]], real data that ships with scikit-learn "
                                      "(iris, wine, breast-cancer, diabetes)"),
    Option("sampler", str, "generator", choices=SAMPLERS,
           help="negative samples from the generator (the paper) or from Langevin chains (baseline)"),
    Option("method", str, "energylab", choices=("energylab", "paper"),
           help="whose defaults the estimator and the negatives take: energylab (knn entropy, the data's frame, "
                "refined and importance-weighted negatives, resampled samples: an energy that is a density) or "
                "paper (Kim & Bengio's: batch-norm entropy, plain negatives); options given beside it win"),
    Option("entropy", str, "knn", choices=ESTIMATORS, live=True,
           help="estimator of the generator's entropy: batchnorm (the paper's surrogate), knn, pullaway, none, "
                "vera (learned output noise + importance-sampled score; a change to or from it needs a new run), "
                "mi (MEG's mutual-information critic)"),
    Option("entropy_weight", float, 1.0, 0.0, 100.0, help="weight of the entropy term (1 = the paper's KL)", live=True),
    Option("lr_energy", float, 1e-3, 1e-6, 1.0, help="Adam learning rate of the energy", live=True),
    Option("lr_generator", float, 1e-3, 1e-6, 1.0, help="Adam learning rate of the generator", live=True),
    Option("lr_decay", float, 0.5, 0.0, 1.0,
           help="final fraction of the run over which learning rates fall linearly to 5 %", live=True),
    Option("lr_final_generator", float, 0.05, 0.0, 1.0,
           help="fraction of the generator's learning rate left at the end of that fall (the energy's falls to 5 %)",
           live=True),
    Option("batch_size", int, 256, 2, 4096, help="data points and generated points per iteration"),
    Option("hidden", int, 128, 4, 2048, help="width of the generator's hidden layers (and the energy's unless set)"),
    Option("energy_hidden", int, None, 4, 2048, help="width of the energy's feature layers and number of experts"),
    Option("generator_depth", int, 2, 1, 6, help="Linear-BatchNorm-ReLU layers in the generator"),
    Option("latent_dim", int, 8, 1, 512, help="dimension of z ~ U(-1, 1)"),
    Option("unit", float, 1.0, 0.001, 1000.0,
           help="2-D data: the networks' unit of length (the energy sees x / UNIT, the generator outputs UNIT times "
                "its net's output); 1 = data units"),
    # pooled, not per axis (explorer/config/build.py data_frame): one unit for both axes keeps a ring a ring
    Option("standardise", bool, True, 0, 1,
           help="2-D data: set the networks' frame from the training data: the energy sees (x - mean) / s and the "
                "generator outputs mean + s times its net's output, s the data's pooled standard deviation, so the "
                "method does not depend on where the data lie or on their scale; --langevin-step-size is then in "
                "these units; not with --unit, which it replaces"),
    Option("frame_scale", float, 1.0, 0.1, 10.0,
           help="with --standardise: the networks' unit is the data's pooled standard deviation divided by this, "
                "so they see the data this many times larger (the same for any data: a ratio, not a length); "
                "a finer unit lets the energy resolve narrow modes sooner"),
    # 20: PacGAN's ring 52 -> 97 % high quality and its grid 44 -> 93 % over seeds 0-9, the tuned ring no
    # worse (assets/studies/mode-frame-seeds; docs/studies.md)
    Option("mode_frame", float, 20.0, 0.0, 1000.0,
           help="with --standardise: the networks' unit is at most this many times the width of the data's modes "
                "(the typical component std of the Gaussian mixture BIC chooses for the data), so narrow modes "
                "are seen at the same resolution whatever the data's spread; 0 = off (the pooled std)"),
    Option("extractor", str, "mlp", choices=("mlp", "conv"), help="energy feature extractor (conv: digits)"),
    # regularisers of the energy (models/regularisers.py), after the paper; 0 / off: the paper's method
    Option("energy_magnitude", float, 0.0, 0.0, 100.0,
           help="alpha of the energies' magnitude penalty alpha * mean(E(data)^2 + E(negatives)^2), added to the "
                "energy's loss (IGEBM, JEM); 0 = off", live=True),
    Option("gradient_penalty", float, 0.0, 0.0, 1000.0,
           help="gamma of the gradient penalty gamma * mean |grad_x E(data)|^2, added to the energy's loss "
                "(MEG), the gradient in data units (so its effect scales as 1 / unit^2 with --standardise); 0 = off",
           live=True),
    Option("energy_weight_decay", float, 0.0, 0.0, 1.0,
           help="lambda of an L2 penalty lambda * sum w^2 over the weights of the energy's Linear and Conv layers "
                "(not their biases, nor the prior's sigma and b), added to the energy's loss (the first author's "
                "scripts: 1e-5); 0 = off", live=True),
    Option("spectral_norm", bool, False, 0, 1,
           help="divide each weight of the energy's Linear and Conv layers by its largest singular value "
                "(one power iteration per energy update), which bounds the slope of the experts' sum; "
                "part of the network, saved with the pair"),
    Option("langevin_steps", int, 20, 1, 1000, help="Langevin steps per iteration (sampler langevin)"),
    Option("langevin_step_size", float, 1e-3, 1e-7, 1.0,
           help="Langevin step size eps (data units; with --standardise, the networks' units: eps times s^2 in data "
                "units)"),
    Option("metropolis", bool, False, 0, 1,
           help="accept or refuse each Langevin step by Metropolis-Hastings (MALA): p_E stays exactly the "
                "target whatever the step size, and a step too large for a sharp well is refused instead of "
                "throwing the sample out of it"),
    Option("step_acceptance", float, 0.0, 0.0, 0.95,
           help="generator sampler, with --refine: the refinement's Langevin steps are Metropolis-adjusted (MALA) "
                "and their step size adapts every iteration towards this acceptance rate (0.574 is MALA's optimum), "
                "so the step follows the sharpness of the energy's wells whatever the data's scale; the adapted "
                "step is saved with the pair and its samples use it; 0 = off (the fixed --langevin-step-size)"),
    Option("refine", int, 5, 0, 100,
           help="generator sampler: Langevin steps on E (step size --langevin-step-size) that refine each generator "
                "sample, as CoopNets does: the energy's negatives in training and the samples of a trained pair; "
                "0 = off"),
    Option("importance", float, 1.0, 0.0, 1.0,
           help="generator sampler: weight the energy's negatives towards p_E by self-normalised importance "
                "weights (exp(-E) over the negatives' nearest-neighbour density) raised to this power, so the "
                "wells' depths follow the data's mode weights; 1 = the plain estimate, 0 = off", live=True),
    Option("importance_floor", float, 0.2, 0.0, 1.0,
           help="generator sampler, with --importance: the share of the plain mean kept beside the importance "
                "weights (defensive importance sampling), which bounds their bias where few negatives reach "
                "a mode; 0 = none", live=True),
    Option("floor_uniform", bool, True, 0, 1,
           help="generator sampler, with --importance-floor and --uniform-negatives: the floor's share covers the "
                "uniform negatives too (on), or the generator's alone (off: the uniform ones keep their importance "
                "weights, which fall with p_E, so the floor no longer raises the energy without bound where the "
                "data have no mass; the points dataset's default)"),
    Option("floor_margin", float, 0.0, 0.0, 100.0,
           help="generator sampler, with --importance-floor: the floor's share pushes a negative up only while its "
                "energy is below the data batch's highest energy plus this many nats, so where the data have no mass "
                "the energy stops rising once p_E there is e^-margin of the data's least likely point; 0 = no bound"),
    Option("uniform_negatives", float, 0.1, 0.0, 1.0,
           help="generator sampler: this fraction of a batch of extra negatives drawn uniformly over the data's "
                "box, so that --importance also sees wells the generator never visits (and, with --resample, "
                "as many candidates to resample from, so that samples reach them too); 0 = off", live=True),
    Option("resample", int, 4, 0, 16,
           help="generator sampler: draw M times as many generator samples as asked and keep each with "
                "probability proportional to exp(-E) over their nearest-neighbour density (sampling-importance-"
                "resampling), so samples follow p_E rather than G; 0 or 1 = off"),
    Option("ema", float, 0.0, 0.0, 0.9999,
           help="generator sampler: decay of an exponential moving average of the generator's weights, which "
                "samples, evaluates and is drawn (the trained generator still trains) and is saved as the pair's "
                "generator; 0 = off"),
    Option("steps", int, 3000, 1, 1_000_000, help="training iterations", live=True),
    Option("seed", int, 0, 0, 2**31 - 1, help="seed of every random draw"),
    Option("compile", bool, False, 0, 1,
           help="train with the whole iteration compiled as one graph (torch.compile; ~15 s of CPU to compile the "
                "first time, ~3 s later from the disk cache; then ~1.6x faster on a CPU, and no worse over 80 seeds "
                "of the ring, but not bit-identical to eager); configurations it does not cover run eager"),
)
OPTION_BY_NAME = {o.name: o for o in OPTIONS}
# What each `method` sets, unless a preset or the user sets it: EnergyLab's (the options' own defaults)
# and the paper's (Kim & Bengio 2016, as the first author's code trains it; the defaults before
# EnergyLab's method).
METHODS: dict[str, dict[str, object]] = {
    "energylab": {name: OPTION_BY_NAME[name].default for name in
                  ("entropy", "standardise", "mode_frame", "refine", "importance", "importance_floor",
                   "uniform_negatives", "resample")},
    "paper": {"entropy": "batchnorm", "standardise": False, "mode_frame": 0.0, "refine": 0, "importance": 0.0,
              "importance_floor": 0.0, "uniform_negatives": 0.0, "resample": 0},
}
PAPER_METHOD = {"method": "paper"}
# options added after the first pairs and studies were saved, and their value before then (the paper's
# method, everything off): a pair or a study row recorded before an option existed had it at this value
# (explorer/training/run.py from_checkpoint, explorer/studies/spec.py Task.key)
ABSENT_MEANS = {"energy_magnitude": 0.0, "gradient_penalty": 0.0, "energy_weight_decay": 0.0, "spectral_norm": False,
                "ema": 0.0, "metropolis": False, "step_acceptance": 0.0, "frame_scale": 1.0, "floor_uniform": True,
                "floor_margin": 0.0,
                **{name: value for name, value in METHODS["paper"].items() if name != "entropy"}}


def method_of(options: Mapping) -> str:
    """The method whose settings `options` share most (a pair saved before `method` existed)."""
    return max(METHODS, key=lambda name: sum(options.get(k) == v for k, v in METHODS[name].items()))


# the generator sampler's own options: off for the Langevin sampler unless named (then refused)
GENERATOR_ONLY = ("refine", "importance", "importance_floor", "floor_uniform", "floor_margin", "uniform_negatives",
                  "resample", "ema")
# the settings a run takes between steps (entropy, its weight, learning rates and their schedule, steps)
LIVE_SETTINGS = tuple(o.name for o in OPTIONS if o.live)
TRUE_WORDS, FALSE_WORDS = ("true", "yes", "on", "1"), ("false", "no", "off", "0")

# Settings that belong to some datasets only (the mixtures' parameters, the points' file); dropped for the others.
DATASET_ONLY = {**{name: tuple(dataset for dataset, names in MIXTURE_PARAMETERS.items() if name in names)
                   for name in ("modes", "radius", "spacing", "std")},
                "points": ("points",)}


@dataclass(frozen=True, eq=False)
class Experiment(Mapping):
    """Every setting of one experiment, checked (`resolve` makes one): what a run is built from.

    Immutable: a change is a new Experiment (`changed`). It reads like the dict of options it
    replaced (experiment["dataset"], .get, .items(), {**experiment}, dict(experiment)), keyed and
    ordered as OPTIONS, and equals any mapping of the same settings. None: not used, or (energy_hidden)
    the generator's width, or (unit, with standardise) set from the data."""
    dataset: str
    modes: int | None
    radius: float | None
    spacing: float | None
    std: float | None
    points: str | None
    sampler: str
    method: str
    entropy: str
    entropy_weight: float
    lr_energy: float
    lr_generator: float
    lr_decay: float
    lr_final_generator: float
    batch_size: int
    hidden: int
    energy_hidden: int | None
    generator_depth: int
    latent_dim: int
    unit: float | None
    standardise: bool
    frame_scale: float
    mode_frame: float
    extractor: str
    energy_magnitude: float
    gradient_penalty: float
    energy_weight_decay: float
    spectral_norm: bool
    langevin_steps: int
    langevin_step_size: float
    metropolis: bool
    step_acceptance: float
    refine: int
    importance: float
    importance_floor: float
    floor_uniform: bool
    floor_margin: float
    uniform_negatives: float
    resample: int
    ema: float
    steps: int
    seed: int
    compile: bool

    def __getitem__(self, name: str):
        if name not in OPTION_BY_NAME:
            raise KeyError(name)
        return getattr(self, name)

    def __iter__(self) -> Iterator[str]:
        return iter(OPTION_BY_NAME)

    def __len__(self) -> int:
        return len(OPTION_BY_NAME)

    def changed(self, **changes) -> Experiment:
        """This experiment with some settings changed, each checked like any input."""
        return replace(self, **{name: check_value(name, value) for name, value in changes.items()})

    def live_settings(self) -> dict:
        return {name: self[name] for name in LIVE_SETTINGS}

    def shapes_differ(self, other: Mapping) -> bool:
        """Does `other` differ in a setting that shapes a run (data, networks, sampler, seed), one
        that a run cannot take between steps? The estimator is live, but a change to or from one that
        gives the generator output noise (vera) changes the generator's network."""
        return (any(self.get(name) != value for name, value in other.items() if name not in LIVE_SETTINGS)
                or generator_noise(self) != generator_noise(other))


def generator_noise(options: Mapping) -> bool:
    """Does the generator of these options have learned output noise (the vera estimator's)?"""
    return options.get("entropy") in NOISY_ESTIMATORS


def as_experiment(options: Mapping) -> Experiment:
    """An Experiment as is; a mapping of settings (e.g. an Experiment's, with a change) checked into one."""
    return options if isinstance(options, Experiment) else resolve(None, dict(options))


def check_value(name: str, value):
    """The value converted to the option's type, or a UserInputError that says what is allowed."""
    option = OPTION_BY_NAME.get(name)
    if option is None:
        raise UserInputError(f"unknown setting {name!r}")
    if value is None:
        return None
    if option.kind is bool:
        return _check_bool(option, value)
    if option.kind is str:
        if not isinstance(value, str):
            raise UserInputError(f"{option.flag} must be text, got {value!r}")
        if option.choices and value not in option.choices:
            raise UserInputError(f"{option.flag} must be one of {', '.join(option.choices)}; got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise UserInputError(f"{option.flag} must be a number, got {value!r}") from None
    if isinstance(value, int) and not option.low <= value <= option.high:
        # before any float conversion: an int beyond float range would raise OverflowError there
        raise UserInputError(f"{option.flag} must be between {option.low:g} and {option.high:g}, got {value}")
    if not math.isfinite(value):
        raise UserInputError(f"{option.flag} must be a finite number, got {value}")
    if option.kind is int:
        value = whole_number(value, option.flag)
    else:
        value = float(value)
    if not option.low <= value <= option.high:
        raise UserInputError(f"{option.flag} must be between {option.low:g} and {option.high:g}, got {value:g}")
    return value


def whole_number(value, name: str, low: int | None = None, high: int | None = None) -> int:
    """`value` as an int when it is a whole number (8 or 8.0; not 8.5, True or "8"), within
    [low, high] when they are given; else a UserInputError naming `name`. The one check of whole
    numbers: for settings (check_value) and the page's other numbers (a widget's limits are only a hint)."""
    if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
            or int(value) != value):
        shown = repr(value[:40]) if isinstance(value, str) else str(value)[:40]   # text quoted, numbers as they are
        raise UserInputError(f"{name} must be a whole number, got {shown}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise UserInputError(f"{name} must be between {low:,} and {high:,}, got {value:,}")
    return value


def _check_bool(option: Option, value) -> bool:
    """True/False, 1/0, or the words true/false, yes/no, on/off (the command line's and links' text)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS + FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise UserInputError(f"{option.flag} must be true or false, got {str(value)[:40]!r}")


def resolve(preset: Mapping | None = None, given: Mapping | None = None) -> Experiment:
    """Defaults <- dataset defaults <- preset <- given (None in `given` means "not given"), checked."""
    preset = dict(preset or {})
    given = {k: v for k, v in (given or {}).items() if v is not None}
    for name in given:
        if name not in OPTION_BY_NAME:
            raise UserInputError(f"unknown setting {name!r}")
    dataset = check_value("dataset", given.get("dataset", preset.get("dataset", "ring")))
    options = {o.name: o.default for o in OPTIONS}
    options.update(DATASET_DEFAULTS.get(dataset, {}))
    options.update(preset)
    options.update(given)
    options["dataset"] = dataset
    method = check_value("method", options["method"])
    for name, value in METHODS[method].items():   # the method's defaults, under what a preset or the user set
        if name not in preset and name not in given:
            options[name] = value
    for name, datasets in DATASET_ONLY.items():
        if dataset not in datasets:
            if name in given:
                raise UserInputError(f"{OPTION_BY_NAME[name].flag} does not apply to the {dataset!r} dataset")
            options[name] = None
    options = {name: check_value(name, value) for name, value in options.items()}
    if dataset == "grid" and not is_square_number(options["modes"]):
        raise UserInputError(f"--modes must be a square number for the grid (4, 9, 16, 25, ...), "
                             f"got {options['modes']}")
    if dataset == "points" and not options["points"]:
        raise UserInputError("the points dataset needs --points FILE (a .csv or .npy of N x 2 numbers)")
    if "unit" in given and "standardise" not in given and "standardise" not in preset:
        options["standardise"] = False   # a unit the user names is their frame: the default frame gives way
    if options["standardise"]:
        # the data set the unit (explorer/config/build.py data_frame); a dataset's or preset's unit
        # gives way to it, a unit the user names is refused rather than silently overridden
        if "unit" in given:
            raise UserInputError("--unit and --standardise both set the networks' unit of length: give one "
                                 "(--standardise takes it from the data)")
        options["unit"] = None
    else:
        # the modes' width caps the data's own frame: without it there is nothing to cap (as
        # --frame-scale, it means nothing then), and a run's key should not name it
        options["mode_frame"] = 0.0
    if not (options["importance"] and options["importance_floor"]):   # no floor: where its share goes and
        options["floor_uniform"], options["floor_margin"] = True, 0.0   # how far it pushes mean nothing
    if options["sampler"] != "generator":
        named = [OPTION_BY_NAME[name].flag for name in GENERATOR_ONLY
                 if options[name] != ABSENT_MEANS[name] and name in given]   # set, not merely restated
        if named:
            raise UserInputError(f"{' and '.join(named)} apply to the generator sampler only")
        for name in GENERATOR_ONLY:   # the defaults (or a preset's) are the generator's method: off here
            options[name] = ABSENT_MEANS[name]
    return Experiment(**options)

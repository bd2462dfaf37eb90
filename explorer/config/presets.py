"""Named, tuned configurations (`--preset NAME`); flags given beside a preset override it.

Each entry: a one-line description and the options it sets (see explorer/config/options.py).
How they were tuned, with the measured figures: docs/method.md and docs/results.md.
"""
from __future__ import annotations

from explorer.config.options import PAPER_METHOD
from explorer.errors import UserInputError

PRESETS: dict[str, tuple[str, dict]] = {
    "ring": ("ring of 8 Gaussians (radius 2, std 0.05), EnergyLab's method: an energy that is a density",
             {"dataset": "ring"}),
    "grid": ("5 x 5 grid of Gaussians (spacing 2, std 0.05), EnergyLab's method",
             {"dataset": "grid"}),
    # Kim & Bengio's own setting, as the defaults were before EnergyLab's method: samples cover the
    # ring, but nothing holds the wells' depths, so the energy deepens without bound (NLL in the
    # hundreds of nats; the calibration study) -- docs/method.md says which addition fixes what
    "paper": ("the paper's setting: batch-norm entropy, plain negatives; samples cover the modes, the energy is "
              "no density", {"dataset": "ring", **PAPER_METHOD, "steps": 5000}),
    # collapse needs a generator that outruns its energy (lr 10x the energy's); the kNN entropy,
    # a real estimate in data space, then keeps every mode, while the batch-norm surrogate does not
    # On the paper's plain negatives: EnergyLab's resampling would hide a collapsed generator (its
    # samples reach every well of p_E: 8 / 8 modes with entropy weight 0, seeds 0 and 1), and the lesson is G's
    "lesson": ("mode collapse vs entropy on the ring: a generator that outruns its energy, kept spread by the kNN "
               "entropy", {**PAPER_METHOD, "dataset": "ring", "entropy": "knn", "lr_energy": 1e-4, "lr_generator": 1e-3,
                           "steps": 3000, "latent_dim": 8, "lr_decay": 0.5, "lr_final_generator": 0.05}),
    "ring-langevin": ("the MCMC baseline: the ring's energy trained with persistent short-run Langevin chains",
                      {**PAPER_METHOD, "dataset": "ring", "sampler": "langevin", "steps": 3000}),
    # a few hundred real points: a small energy generalises, and the kNN entropy (a real estimate,
    # unlike the batch-norm surrogate) keeps the generator as spread as p_E, so p_E stays calibrated
    "points": ("your own 2-D points, standardised; small networks, kNN entropy, the paper's plain negatives",
               {**PAPER_METHOD, "dataset": "points", "hidden": 16, "latent_dim": 2, "entropy": "knn",
                "batch_size": 128, "steps": 3000, "lr_energy": 5e-4, "lr_generator": 5e-4}),
    "digits": ("scikit-learn's 8 x 8 digits, MLP energy and generator, batch-norm entropy",
               {"dataset": "digits"}),
    # the lesson on digits: as on the ring, collapse needs a generator that outruns its energy;
    # without entropy some classes all but vanish (class KL 0.39), the kNN entropy keeps them (0.02)
    "digits-lesson": ("collapse vs entropy on digits: a generator that outruns its energy, kept spread by the kNN "
                      "entropy",
                      {"dataset": "digits", "entropy": "knn", "lr_energy": 1e-4, "lr_generator": 1e-3,
                       "steps": 2000}),
}


def preset_options(name: str | None) -> dict:
    if name is None:
        return {}
    if name not in PRESETS:
        raise UserInputError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)} (see --list-presets)")
    return dict(PRESETS[name][1])


def preset_lines() -> list[str]:
    width = max(map(len, PRESETS))
    return [f"{name:<{width}}  {description}" for name, (description, _) in PRESETS.items()]

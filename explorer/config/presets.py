"""Named, tuned configurations (`--preset NAME`); flags given beside a preset override it.

Each entry: a one-line description and the options it sets (see explorer/config/options.py).
How they were tuned, with the measured figures: docs/method.md and docs/results.md.
"""
from __future__ import annotations

from explorer.errors import UserInputError

PRESETS: dict[str, tuple[str, dict]] = {
    "ring": ("ring of 8 Gaussians (radius 2, std 0.05), the paper's batch-norm entropy, weight 1",
             {"dataset": "ring", "steps": 5000}),
    "grid": ("5 x 5 grid of Gaussians (spacing 2, std 0.05), the paper's batch-norm entropy, weight 1",
             {"dataset": "grid", "steps": 30000}),  # the grid's own steps (options.DATASET_DEFAULTS)
    # collapse needs a generator that outruns its energy (lr 10x the energy's); the kNN entropy,
    # a real estimate in data space, then keeps every mode, while the batch-norm surrogate does not
    "lesson": ("mode collapse vs entropy: run as is (kNN entropy), then with --entropy-weight 0",
               # as tuned, before the ring's own defaults changed
               {"dataset": "ring", "entropy": "knn", "lr_energy": 1e-4, "lr_generator": 1e-3, "steps": 3000,
                "latent_dim": 8, "lr_decay": 0.5, "lr_final_generator": 0.05}),
    "ring-langevin": ("the MCMC baseline: the ring's energy trained with persistent short-run Langevin chains",
                      {"dataset": "ring", "sampler": "langevin", "steps": 3000}),
    # a few hundred real points: a small energy generalises, and the kNN entropy (a real estimate,
    # unlike the batch-norm surrogate) keeps the generator as spread as p_E, so p_E stays calibrated
    "points": ("points you bring (--points FILE), standardised; small networks, kNN entropy",
               {"dataset": "points", "hidden": 16, "latent_dim": 2, "entropy": "knn", "batch_size": 128,
                "steps": 3000, "lr_energy": 5e-4, "lr_generator": 5e-4}),
    # issue 18's candidate method, on any 2-D data (docs/method.md, docs/studies.md: the remedies and
    # calibration suites): a frame from the data, a real entropy estimate, CoopNets' refinement, and
    # negatives weighted towards p_E (plus a few uniform ones) so the wells' depths follow the data;
    # samples resampled from 4x as many generator draws (and a few uniform ones) towards p_E
    "calibrated": ("any 2-D data: standardised frame, kNN entropy, refined and importance-weighted negatives, "
                   "resampled samples",
                   {"entropy": "knn", "standardise": True, "refine": 10, "importance": 1.0, "importance_floor": 0.2,
                    "uniform_negatives": 0.1, "resample": 4}),
    "digits": ("scikit-learn's 8 x 8 digits, MLP energy and generator, batch-norm entropy",
               {"dataset": "digits"}),
    # the lesson on digits: as on the ring, collapse needs a generator that outruns its energy;
    # without entropy some classes all but vanish (class KL 0.39), the kNN entropy keeps them (0.02)
    "digits-lesson": ("collapse vs entropy on digits: kNN entropy; run with --entropy-weight 0 to collapse",
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

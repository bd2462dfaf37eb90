"""What each dataset sets before a preset or the user does (explorer/config/options.py resolve), and why."""
from __future__ import annotations

DATASET_DEFAULTS: dict[str, dict] = {
    # latent 4 (as public 2-D versions), a decay over the last 70 % of the run, and a generator that
    # keeps 30 % of its learning rate while the energy's falls to 5 %: mean high-quality fraction
    # 0.812 against 0.784 (seeds 0-4, docs/results.md; within seed noise)
    "ring": {"modes": 8, "radius": 2.0, "std": 0.05, "latent_dim": 4, "lr_decay": 0.7, "lr_final_generator": 0.3},
    # a 2-D latent (a continuous map of a square onto 25 points tears it along thin lines between
    # the modes; more latent dimensions only add room to fold), networks in units of 2.83 (the energy
    # sees x / 2.83, within +-1.5), a 4-layer generator at lr 1e-4 (3e-4 collapses it), batches of 512
    # (docs/results.md; benchmarks/grid_sweep.py, on the paper's method, which needed 30,000 steps for
    # 0.72 high quality); 10,000 steps since the modes' frame: 25.0 / 25 modes, 93.6 ± 1.0 % high
    # quality over seeds 0-9, under 5 minutes a run here (assets/studies/scoreboard's pacgan-grid is
    # these defaults)
    "grid": {"modes": 25, "spacing": 2.0, "std": 0.05, "latent_dim": 2, "unit": 2.83, "generator_depth": 4,
             "lr_generator": 1e-4, "batch_size": 512, "steps": 10000},
    # a user's own points are a finite sample: where the training points have no mass, held-out points
    # may still lie, and the importance floor's share on the uniform negatives raises the energy there
    # without bound (wine's held-out points between its clusters: 55-60 nats against a Gaussian
    # mixture's 8). On the generator's negatives alone (study importance-floor, seeds 0-4): the gap to
    # a BIC mixture 1.30 -> 0.05 nats on wine, 0.48 -> 0.28 on iris, breast cancer and diabetes as
    # before. The mixtures and shapes keep it: their data are drawn afresh every batch, and PacGAN's
    # narrow ring needs the unbounded push (96 -> 49 % high quality without it)
    "points": {"floor_uniform": False},
    # an MLP energy is much faster than the conv one on a CPU (docs/speed.md) and balances the classes as well;
    # the paper's method: the frame, the kNN density of the importance weights and the uniform negatives are
    # 2-D tools (in 64 dimensions a nearest-neighbour density says little), and digits keep their 10 classes
    # with it (the robustness study)
    "digits": {"hidden": 256, "latent_dim": 16, "extractor": "mlp", "steps": 4000, "method": "paper"},
}

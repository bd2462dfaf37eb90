"""Real 2-D data, end to end through the command line, against a BIC-chosen Gaussian mixture.

Data: scikit-learn's Wisconsin breast-cancer set (ships with scikit-learn, no download), columns
"mean radius" and "mean texture", 569 tumours; shuffled with seed 0, 80 % train / 20 % held out.
The energy model is trained with `explorer.train --dataset points`, scored with
`explorer.evaluate --points heldout.csv`; the mixture (1-8 components, lowest BIC) is fitted on
the same standardised training points and scored on the same held-out points.

    python -m benchmarks.real_points [--seeds 0 1 2] [extra explorer.train flags]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.mixture import GaussianMixture

DEFAULT_OUTPUTS = ()   # prints its figures; writes only in a temporary folder (tests/test_bench.py)
COLUMNS = (0, 1)  # mean radius, mean texture


def split(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    data = load_breast_cancer().data[:, COLUMNS]
    order = np.random.default_rng(seed).permutation(len(data))
    cut = int(0.8 * len(data))
    return data[order[:cut]], data[order[cut:]]


def gmm_heldout_nll(train: np.ndarray, heldout: np.ndarray) -> tuple[float, int]:
    """Held-out NLL (nats/point) of the BIC-best mixture, in the training standardisation."""
    mean, std = train.mean(axis=0), train.std(axis=0)
    train_s, heldout_s = (train - mean) / std, (heldout - mean) / std
    fits = [GaussianMixture(k, random_state=0, n_init=3).fit(train_s) for k in range(1, 9)]
    best = min(fits, key=lambda g: g.bic(train_s))
    return float(-best.score(heldout_s)), best.n_components


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args, train_flags = parser.parse_known_args()
    train, heldout = split()
    gmm_nll, components = gmm_heldout_nll(train, heldout)
    folder = tempfile.mkdtemp(prefix="real-points-")
    train_csv, heldout_csv = os.path.join(folder, "train.csv"), os.path.join(folder, "heldout.csv")
    header = "mean_radius,mean_texture"
    np.savetxt(train_csv, train, delimiter=",", header=header, comments="")
    np.savetxt(heldout_csv, heldout, delimiter=",", header=header, comments="")
    rows = []
    for seed in args.seeds:
        out = os.path.join(folder, f"seed{seed}")
        subprocess.run([sys.executable, "-m", "explorer.train", "--preset", "points", "--points", train_csv,
                        "--seed", str(seed), "--out", out, "--quiet", *train_flags], check=True)
        result = subprocess.run([sys.executable, "-m", "explorer.evaluate", out, "--points", heldout_csv],
                                check=True, capture_output=True, text=True)
        metrics = json.loads(result.stdout)
        rows.append(metrics["nll"])
        print(f"seed {seed}: energy model held-out NLL {metrics['nll']:.3f} "
              f"(log Z {metrics['log_z']:.3f}, mass outside box {metrics['mass_outside']:.1e})", flush=True)
    mean = float(np.mean(rows))
    print(json.dumps({"dataset": "sklearn breast cancer: mean radius, mean texture", "train": len(train),
                      "heldout": len(heldout), "gmm_components_bic": components, "gmm_nll": round(gmm_nll, 4),
                      "energy_nll_mean": round(mean, 4), "energy_nll_per_seed": [round(r, 4) for r in rows],
                      "gap": round(mean - gmm_nll, 4)}))


if __name__ == "__main__":
    main()

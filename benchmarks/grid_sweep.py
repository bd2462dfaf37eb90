"""Sweep training settings on the 5 x 5 grid (spacing 2, std 0.05, the paper's batch-norm entropy).

Each configuration is a set of extra `explorer.train` flags added to exactly the command of
`check-core.py`'s grid check:

    python -m explorer.train --dataset grid --modes 25 --spacing 2 --std 0.05 \\
        --entropy batchnorm --entropy-weight 1 --seed S --out DIR  [extra flags]

run one process at a time (one torch thread), scored by the metrics.json that explorer.train
writes (the evaluation of `explorer.evaluate DIR --samples 2500 --seed 0`). One JSON line per run
is appended to the log (default runs/grid_sweep.jsonl): the flags, the seed, modes covered,
high-quality fraction, training seconds, and the progress curve (1,000 samples every 250 steps).

    python -m benchmarks.grid_sweep --seeds 0 --config "--latent-dim 2" --config "--steps 20000"
    python -m benchmarks.grid_sweep --seeds 0 1 2 3 4 --config ""      # the defaults as they are
    python -m benchmarks.grid_sweep --summary                          # table of the log so far

What it found (2-core CPU shared with other work, so times are indicative): the grid row of
docs/results.md ("The targets") and its section "The 5 x 5 grid"; the grid's defaults in explorer/config/options.py.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOG = os.path.join(ROOT, "runs", "grid_sweep.jsonl")
DEFAULT_OUTPUTS = (LOG,)   # what it writes unless told (tests/test_bench.py: never into benchmarks/)
BASE = ["--dataset", "grid", "--modes", "25", "--spacing", "2", "--std", "0.05",
        "--entropy", "batchnorm", "--entropy-weight", "1"]


def train(extra: list[str], seed: int) -> dict:
    out = tempfile.mkdtemp(prefix="grid-sweep-")
    cmd = [sys.executable, "-m", "explorer.train", *BASE, "--seed", str(seed), "--quiet", "--out", out, *extra]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"})
    wall = time.perf_counter() - start
    if proc.returncode:
        return {"error": proc.stderr.strip()[-300:], "wall_seconds": round(wall, 1)}
    with open(os.path.join(out, "metrics.json")) as f:
        metrics = json.load(f)
    history = metrics.get("history", {})
    curve = {name: [[s, round(v, 4)] for s, v in history.get(name, [])]
             for name in ("modes_covered", "high_quality_fraction")}
    return {"modes": metrics["modes_covered"], "hq": round(metrics["high_quality_fraction"], 4),
            "train_seconds": metrics["train_seconds"], "wall_seconds": round(wall, 1), "out": out, "curve": curve}


def ceiling(depth: int, steps: int, lr: float, unit: float, hidden: int = 128, seed: int = 0) -> list:
    """The generator alone, regressed straight onto the answer: z's cell of a 5 x 5 partition of
    [-1, 1]^2 -> that cell's grid centre (no energy, no game). Its high-quality fraction (eval mode,
    within 0.15 of the target) bounds what the pair can reach with this generator in `steps` steps:
    a continuous Linear-BN-ReLU map of a uniform square can only approach the 25 points with
    steep transitions between plateaus, and those are slow to learn."""
    import torch

    from models import Generator, GeneratorConfig
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    g = Generator(GeneratorConfig(latent_dim=2, hidden=hidden, depth=depth, unit=unit))
    opt = torch.optim.Adam(g.parameters(), lr=lr, betas=(0.5, 0.999))
    rng = torch.Generator().manual_seed(seed)

    def target(z):
        return 2.0 * torch.clamp(torch.floor((z + 1.0) / 0.4), 0, 4) - 4.0
    rows = []
    for step in range(1, steps + 1):
        decay = max(0.0, (step / steps - 0.5) / 0.5)      # the runs' schedule: last half down to 5 %
        for group in opt.param_groups:
            group["lr"] = lr * (1.0 - 0.95 * decay)
        z = g.sample_latent(256, rng)
        loss = ((g(z) - target(z)) ** 2).sum(dim=1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % (steps // 4) == 0:
            probe = torch.Generator().manual_seed(seed + 1)
            z = g.sample_latent(2500, probe)
            x = g.sample(2500, torch.Generator().manual_seed(seed + 1))
            rows.append([step, round(((x - target(z)).norm(dim=1) <= 0.15).float().mean().item(), 3)])
    return rows


def summary(log: str) -> None:
    rows = defaultdict(list)
    with open(log) as f:
        for line in f:
            r = json.loads(line)
            if "modes" in r:
                rows[r["config"]].append(r)
    print("| extra flags | seeds | modes (mean) | hq (mean) | per seed (modes / hq) | s per run |")
    print("|---|---|---|---|---|---|")
    for config, rs in rows.items():
        rs = sorted({r["seed"]: r for r in rs}.values(), key=lambda r: r["seed"])  # last run of each seed
        modes = sum(r["modes"] for r in rs) / len(rs)
        hq = sum(r["hq"] for r in rs) / len(rs)
        per = ", ".join(f"{r['seed']}: {r['modes']}/{r['hq']:.3f}" for r in rs)
        secs = max(r["train_seconds"] for r in rs)
        print(f"| `{config or '(defaults)'}` | {len(rs)} | {modes:.1f} | {hq:.3f} | {per} | {secs:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", action="append", default=[], help="extra train flags, one string a config")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--log", default=LOG)
    parser.add_argument("--summary", action="store_true", help="print the table of the log and exit")
    parser.add_argument("--ceiling", type=int, nargs="*", metavar="DEPTH",
                        help="instead: the generator of each depth regressed onto the answer (see ceiling())")
    parser.add_argument("--ceiling-steps", type=int, default=10000)
    parser.add_argument("--ceiling-lr", type=float, default=1e-3)
    parser.add_argument("--ceiling-unit", type=float, default=2.83)
    args = parser.parse_args()
    if args.summary:
        summary(args.log)
        return
    if args.ceiling is not None:
        for depth in args.ceiling or [2, 3, 4]:
            rows = ceiling(depth, args.ceiling_steps, args.ceiling_lr, args.ceiling_unit)
            print(f"ceiling depth {depth}, lr {args.ceiling_lr:g}, unit {args.ceiling_unit:g}: "
                  + ", ".join(f"step {s} hq {h:.3f}" for s, h in rows), flush=True)
            with open(args.log, "a") as f:
                f.write(json.dumps({"ceiling": {"depth": depth, "lr": args.ceiling_lr, "unit": args.ceiling_unit},
                                    "curve": rows}) + "\n")
        return
    os.makedirs(os.path.dirname(args.log) or ".", exist_ok=True)
    for config in args.config or [""]:
        for seed in args.seeds:
            result = train(shlex.split(config), seed)
            record = {"config": config, "seed": seed, **result}
            with open(args.log, "a") as f:
                f.write(json.dumps(record) + "\n")
            print(f"{config or '(defaults)'} seed {seed}: "
                  + (f"modes {result['modes']}, hq {result['hq']:.3f}, {result['train_seconds']:.0f} s"
                     if "modes" in result else f"error {result['error']}"), flush=True)


if __name__ == "__main__":
    main()

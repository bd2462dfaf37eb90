"""Does the compiled iteration (`--compile`) train the ring as well as eager? Seeds, side by side.

The compiled step computes the same iteration as eager to about 1e-8 per step, but not bit for bit
(inductor fuses and reorders float arithmetic); GAN-style training amplifies that, so a compiled run
and an eager run of one seed end in different places. The question is then whether the two
*distributions over seeds* differ. Each run is exactly the command line a user types:

    python -m explorer.train --preset paper --seed S --quiet --out DIR [--compile]

scored by the metrics.json it writes (8 modes; high quality on 2,500 samples, evaluation seed 0).
Runs go `--jobs` at a time (one torch thread each); one JSON line per run is appended to the log
(compiled_quality.jsonl in the --out folder), so a sweep can be stopped and continued. Each line
carries a fingerprint of what the compiled graph computes (models/compiled_step.py's `build_step`
and its inductor options, and torch's version): only runs of the current one are compared, and the
summary, written beside the log (compiled_quality.json), is what `python -m benchmarks.speed` reports
beside the compiled step's speed when it is the shipped record's (benchmarks/).

The --out folder is runs/benchmarks (ignored by git) unless told `--out benchmarks`: a study tried
on another machine does not extend or overwrite the repository's record by accident.

    python -m benchmarks.compiled_quality --seeds 0-39 --jobs 2 --out benchmarks   # the shipped record
    python -m benchmarks.compiled_quality --summary --out benchmarks                # its table
    python -m benchmarks.compiled_quality --seeds 0-3                               # a try: runs/benchmarks

The summary compares the high-quality fractions: mean and standard deviation, median, the low tail,
Welch's t-test, the Mann-Whitney U test, and a bootstrap 95 % interval of the difference of means
(compiled - eager; seeded). The issue's "at the same quality" is read as: no worse, within a margin
(a speed bought with quality is no speed-up): the interval's lower end above -0.05, about half the
seed-to-seed spread of eager runs. benchmarks/speed.py reports the verdict beside the speed.
What it found: docs/speed.md.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import stats

from benchmarks.report import quality_study
from models import compiled_step

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MODES = {"eager": [], "compiled": ["--compile", "true"]}
OUT_DIR = os.path.join(ROOT, "runs", "benchmarks")   # the shipped record: --out benchmarks
DEFAULT_OUTPUTS = (OUT_DIR,)   # what it writes unless told (tests/test_bench.py: never into benchmarks/)
LOG, SUMMARY = "compiled_quality.jsonl", "compiled_quality.json"   # in the --out folder
MARGIN = 0.05   # how much lower the compiled step's mean high-quality fraction may be, at most


def train(mode: str, seed: int) -> dict:
    out = tempfile.mkdtemp(prefix="compiled-quality-")
    cmd = [sys.executable, "-m", "explorer.train", "--preset", "paper", "--seed", str(seed), "--quiet",
           "--out", out, *MODES[mode]]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"})
    record = {"mode": mode, "seed": seed, "fingerprint": compiled_step.fingerprint(),
              "wall_seconds": round(time.perf_counter() - start, 1)}
    if proc.returncode:
        return {**record, "error": proc.stderr.strip()[-300:]}
    with open(os.path.join(out, "metrics.json")) as f:
        metrics = json.load(f)
    return {**record, "modes": metrics["modes_covered"], "hq": round(metrics["high_quality_fraction"], 4),
            "train_seconds": metrics["train_seconds"]}


def seed_range(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def load(log: str) -> dict[str, dict[int, dict]]:
    """The last record of each (mode, seed) in the log; compiled runs only of the current compiled
    graph. Eager runs do not depend on it, and eager training is pinned bit for bit (the pretrained
    pairs, tests/test_flat_adam.py), so its runs stand."""
    runs: dict[str, dict[int, dict]] = {mode: {} for mode in MODES}
    current = compiled_step.fingerprint()
    if os.path.exists(log):
        with open(log) as f:
            for line in f:
                record = json.loads(line)
                if "error" not in record and (record["mode"] == "eager" or record.get("fingerprint") == current):
                    runs[record["mode"]][record["seed"]] = record
    return runs


def bootstrap_difference(a: np.ndarray, b: np.ndarray, draws: int = 20_000, seed: int = 0) -> tuple[float, float]:
    """95 % interval of mean(a) - mean(b), resampling each group with replacement."""
    rng = np.random.default_rng(seed)
    diffs = rng.choice(a, (draws, a.size)).mean(1) - rng.choice(b, (draws, b.size)).mean(1)
    return float(np.percentile(diffs, 2.5)), float(np.percentile(diffs, 97.5))


def compare(runs: dict[str, dict[int, dict]]) -> dict | None:
    """The comparison over seeds run both ways (None: fewer than two)."""
    seeds = sorted(set(runs["eager"]) & set(runs["compiled"]))   # compare like with like
    if len(seeds) < 2:
        return None
    result = {"fingerprint": compiled_step.fingerprint(), "preset": "paper", "seeds": seeds, "margin": MARGIN}
    for mode in MODES:
        records = [runs[mode][s] for s in seeds]
        h = np.array([r["hq"] for r in records])
        result[mode] = {"high_quality": h.tolist(), "mean": float(h.mean()), "sd": float(h.std(ddof=1)),
                        "median": float(np.median(h)), "min": float(h.min()), "below_0_7": int((h < 0.7).sum()),
                        "all_modes": sum(r["modes"] == 8 for r in records),
                        "train_seconds_median": float(np.median([r["train_seconds"] for r in records]))}
    c, e = np.array(result["compiled"]["high_quality"]), np.array(result["eager"]["high_quality"])
    low, high = bootstrap_difference(c, e)
    result.update(difference=float(c.mean() - e.mean()), interval=[low, high],
                  welch_p=float(stats.ttest_ind(c, e, equal_var=False).pvalue),
                  mann_whitney_p=float(stats.mannwhitneyu(c, e, alternative="two-sided").pvalue),
                  no_worse=bool(low >= -MARGIN))
    return result


def summary(result: dict | None) -> str:
    if result is None:
        return "fewer than two seeds run both ways (with the current compiled graph): nothing to compare yet"
    seeds = result["seeds"]
    lines = [f"paper preset (the ring), seeds {seeds[0]}-{seeds[-1]} ({len(seeds)} seeds run both ways), "
             "high-quality fraction:",
             "", "| iteration | mean ± sd | median | min | seeds < 0.7 | 8 / 8 modes | training s (median) |",
             "|---|---|---|---|---|---|---|"]
    for mode in MODES:
        m = result[mode]
        lines.append(f"| {mode} | {m['mean']:.3f} ± {m['sd']:.3f} | {m['median']:.3f} | {m['min']:.3f} | "
                     f"{m['below_0_7']} | {m['all_modes']} / {len(seeds)} | {m['train_seconds_median']:.1f} |")
    lines += ["", f"compiled: {quality_study(result)}; Welch p = {result['welch_p']:.2f}, "
                  f"Mann-Whitney p = {result['mann_whitney_p']:.2f}"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0-39", help="a seed or a range, e.g. 0-39")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (one torch thread each)")
    parser.add_argument("--out", default=OUT_DIR,
                        help="folder of the log and its summary (default runs/benchmarks; the shipped record: "
                             "--out benchmarks)")
    parser.add_argument("--summary", action="store_true", help="print the table of the log and stop")
    parser.add_argument("--again", action="store_true", help="run seeds the log already holds again")
    args = parser.parse_args()
    log = os.path.join(args.out, LOG)
    if not args.summary:
        done = load(log)
        todo = [(mode, seed) for seed in seed_range(args.seeds) for mode in args.modes
                if args.again or seed not in done[mode]]
        os.makedirs(args.out, exist_ok=True)
        with ThreadPoolExecutor(max(1, args.jobs)) as pool:
            for record in pool.map(lambda job: train(*job), todo):
                with open(log, "a") as f:
                    f.write(json.dumps(record) + "\n")
                print(json.dumps(record), flush=True)
    result = compare(load(log))
    if result is not None:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, SUMMARY), "w") as f:
            json.dump(result, f, indent=1)
    print(summary(result))


if __name__ == "__main__":
    main()

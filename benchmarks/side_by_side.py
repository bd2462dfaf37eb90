"""The app's live figures in two checkouts, measured alternately in one run (issue 16's "behaves as before").

    python -m benchmarks.side_by_side /path/to/other/checkout [--rounds 2] [--seconds 15]

Runs benchmarks/app_live.py (cold start, choosing pretrained pairs, frames per second while
training, Stop, training speed against the command line) in the other checkout and in this one,
alternating, so that both see the same machine; prints each round's lines under its checkout.
Run it alone: two processes share only two cores here.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def measure(tree: str, seconds: float) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, os.path.join("benchmarks", "app_live.py"), "--seconds", str(seconds)],
                            cwd=tree, env=env, capture_output=True, text=True, check=True)
    return result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("other", help="another checkout of EnergyLab (e.g. a git worktree of an older commit)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    for round_ in range(1, args.rounds + 1):
        for name, tree in (("other", os.path.abspath(args.other)), ("this", HERE)):
            print(f"## round {round_}, {name} checkout ({tree})", flush=True)
            print(measure(tree, args.seconds), flush=True)


if __name__ == "__main__":
    main()

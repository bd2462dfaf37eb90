"""The paper's headline on EnergyLab's default method: a generator is cheaper than MCMC.

    python -m benchmarks.headline [--cap 90] [--needed 0.9] [--seed 0]

On the tuned ring (8 modes, radius 2, std 0.05), the defaults (`python -m explorer.train` with no
flags: EnergyLab's method, its samples G(z) refined by 5 Langevin steps on E and resampled towards
p_E, all of it counted) against the Langevin baseline (`--preset ring-langevin`, 20 and 60 steps an
iteration): CPU seconds of training until 8 / 8 modes and `--needed` high-quality samples (of 2,500,
checked every 50 iterations, evaluation not counted), then samples per second at that quality
(Langevin: chains from uniform noise, run until their samples meet the bar). The issue's targets:
the generator at the bar in at most a third of Langevin's time, and sampling at least 50x faster.
One seed, one run: a measurement, not a study.
"""
from __future__ import annotations

from argparse import ArgumentParser

from benchmarks import generator_vs_langevin
from explorer.config.options import resolve
from explorer.config.presets import preset_options
from explorer.command_line import set_threads


def row(name: str, result: dict, needed: float) -> str:
    bar = result["bars"].get(generator_vs_langevin.bar_key(needed))
    reached = "not reached" if bar is None else f"{bar['seconds']:.1f} s ({bar['step']:,} it)"
    last = result["final"]["high_quality_fraction"] if result["final"] else float("nan")
    sampling = result["sampling"]
    rate = f"{sampling['samples_per_second']:,.0f}" + ("" if sampling["met"] else " (below the bar)")
    return (f"| {name} | {1000 * result['seconds_per_iteration']:.1f} | {reached} | {result['iterations']:,} it, "
            f"{result['seconds']:.1f} s | {last:.3f} | {rate} |")


def main(argv=None) -> None:
    parser = ArgumentParser(prog="benchmarks.headline", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cap", type=float, default=90.0, help="CPU seconds of training per method at most")
    parser.add_argument("--needed", type=float, default=0.9, help="the high-quality fraction of the bar")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    set_threads(1)
    defaults = resolve(None, {"dataset": "ring", "seed": args.seed})
    langevin = resolve(preset_options("ring-langevin"), {"seed": args.seed, "steps": defaults["steps"]})
    result = generator_vs_langevin.compare(defaults, langevin, "cpu", args.cap, needed=args.needed)
    print(f"Ring, seed {args.seed}; bar: 8 / 8 modes and {args.needed:.0%} high quality; CPU seconds, one torch thread\n")
    print("| negatives | ms / iteration | to the bar | trained | last high quality | samples / s at the bar |")
    print("|---|---|---|---|---|---|")
    for name, label in (("generator", "EnergyLab's defaults (G(z), refined, resampled)"),
                        ("langevin_20", "Langevin, 20 steps"), ("langevin_60", "Langevin, 60 steps")):
        print(row(label, result[name], args.needed))
    generator, baseline = result["generator"], result["langevin_20"]
    key = generator_vs_langevin.bar_key(args.needed)
    mine, theirs = generator["bars"].get(key), baseline["bars"].get(key)
    if mine and theirs:
        print(f"\ntime to the bar: generator / Langevin-20 = {mine['seconds'] / theirs['seconds']:.2f} (target <= 0.33)")
    else:
        print("\ntime to the bar: " + ("the generator did not reach it" if not mine else
                                        f"Langevin-20 did not reach it in {baseline['seconds']:.0f} s"))
    if generator["sampling"]["met"] and baseline["sampling"]["met"]:
        print(f"sampling at the bar: {generator['sampling']['samples_per_second'] / baseline['sampling']['samples_per_second']:,.0f}x "
              "Langevin-20's chains (target >= 50x)")


if __name__ == "__main__":
    main()

"""EnergyLab's speed, measured in one run: `python -m benchmarks.speed` (minutes on 2 cores: docs/speed.md).

    python -m benchmarks.speed                 # writes runs/benchmarks/results.json and results.md
    python -m benchmarks.speed --out benchmarks  # ... over the shipped record beside the code
    python -m benchmarks.speed --quick         # a few seconds: every figure, too short to trust
    python -m benchmarks.speed --device cuda   # the same figures on a GPU (auto: CUDA when present, and CPU)

Side by side, for the paper's iteration on the ring (the `paper` preset; EnergyLab's method, the
defaults, adds 5 Langevin steps and nearest-neighbour searches to each iteration and runs eager):
- the matrix-multiply floor (benchmarks/flops.py) and training throughput against it, eager
  and with the whole iteration compiled (`--compile`, models/compiled_step.py; skipped by --quick);
- EnergyLab's loop against a plain reference loop (benchmarks/reference_loop.py);
- generator against Langevin negatives: cost, time to the ring's quality bar, samples per second
  (benchmarks/generator_vs_langevin.py);
- what the app does: landscape, gallery, interpolation, live frame bytes, cold start (benchmarks/speed_app.py).
One torch thread, as the app and the command line use by default. The machine's load average is
recorded: on a shared machine every timing is indicative.
"""
from __future__ import annotations

import json
import os
import platform
import sys
import time

import torch

from benchmarks import generator_vs_langevin, report, speed_app, throughput
from explorer.command_line import ArgumentParser, main_guard, set_threads
from explorer.config.build import pick_device
from explorer.config.options import resolve
from explorer.config.presets import preset_options
from models import compiled_step

HERE = os.path.dirname(os.path.abspath(__file__))   # the shipped record: results.json and results.md
# a run writes under runs/ (ignored by git) unless told --out benchmarks: a benchmark tried on
# another machine does not overwrite the repository's record by accident
OUT_DIR = os.path.join(os.path.dirname(HERE), "runs", "benchmarks")
DEFAULT_OUTPUTS = (OUT_DIR,)   # what it writes unless told (tests/test_bench.py: never into benchmarks/)
QUALITY_STUDY = os.path.join(HERE, "compiled_quality.json")   # benchmarks/compiled_quality.py writes it
TARGETS = {   # issue 8
    "floor_fraction": 0.60,        # training throughput / what the matmul floor allows
    "over_reference": 2.0,         # EnergyLab's loop / the plain reference loop
    "time_to_quality_ratio": 1 / 3,  # generator's time to the bar / Langevin's
    "sampling_speedup": 50.0,      # generator samples/s / Langevin's, at the bar
    "landscape_seconds": 0.050,    # 200 x 200 energy + log Z
    "frame_bytes": 150_000,        # a live frame
    "cold_start_seconds": 5.0,     # python app.py -> first page
}
QUALITY_CAP = 60.0   # CPU seconds of training per method (the generator's whole 5,000-step run takes ~30)
# every key results.json has (tests check them); sections are None when skipped
SECTIONS = ("meta", "matmul", "training", "quality", "app", "cold_start", "imports", "cuda", "compile",
            "compiled_quality", "targets")


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def measure(device: str, quick: bool) -> dict:
    """Every in-process figure on one device."""
    ring = resolve(preset_options("paper"), {})
    langevin = resolve(preset_options("ring-langevin"), {})
    result = {"device": device, "section_seconds": {}}
    sections = {
        "matmul": lambda: throughput.matmul_rates(device, ring["hidden"], ring["batch_size"], quick=quick),
        "training": lambda: throughput.throughput(ring, device, repeats=1 if quick else 5, window=10 if quick else 120),
        "quality": lambda: generator_vs_langevin.compare(ring, langevin, device,
                                                         cap_seconds=0.2 if quick else QUALITY_CAP,
                                                         every=10 if quick else 50, app_sampler=not quick),
        "app": lambda: speed_app.in_process(device, repeats=1 if quick else 5),
    }
    for name, section in sections.items():
        started = time.perf_counter()
        result[name] = section()
        result["section_seconds"][name] = round(time.perf_counter() - started, 1)
        print(f"benchmarks.speed: {device} {name} {result['section_seconds'][name]:.1f} s", file=sys.stderr)
    return result


def compiled_quality_study(path: str = QUALITY_STUDY) -> dict | None:
    """benchmarks/compiled_quality.py's summary when it is of the current compiled graph, else None."""
    try:
        with open(path) as f:
            study = json.load(f)
    except (OSError, ValueError):
        return None
    return study if study.get("fingerprint") == compiled_step.fingerprint() else None


def compiled_quality_note(study: dict | None) -> str:
    """What the seed study says of the compiled step's quality, for the throughput rows."""
    if study is None:
        return ("the same quality is not shown: no seed study of this compiled graph "
                "(python -m benchmarks.compiled_quality --out benchmarks)")
    verdict = "the same quality" if study["no_worse"] else "the same quality is not shown"
    return f"{verdict} (ring, {len(study['seeds'])} seeds each: {report.quality_study(study)})"


def targets(cpu: dict, cold: dict | None, compiled: dict | None = None,
            compiled_quality: dict | None = None) -> list[dict]:
    """The issue's targets against what was measured: each row with the figure shown and a note.
    The throughput rows give eager and, when measured, the compiled step (`--compile`, opt-in), whose
    speed counts where `compiled_quality` (compiled_quality_study()) shows it trains as well."""
    t, q, a = cpu["training"], cpu["quality"], cpu["app"]
    rows = []

    def row(name, goal, measured, shown, met, note=""):
        rows.append({"target": name, "goal": goal, "measured": measured, "shown": shown, "met": bool(met),
                     "note": note})

    c = compiled if compiled and compiled.get("compiled") else None
    quality_note = compiled_quality_note(compiled_quality)

    # The issue asks for the speed "at the same quality". The compiled step is not bit-identical to
    # eager, so its speed meets a target only where benchmarks/compiled_quality.py's seed study, of
    # this very graph, shows it trains the ring no worse than eager (within the study's margin).
    def met_by(eager_met: bool, compiled_met: bool | None) -> tuple[bool, str]:
        if eager_met:
            return True, ""
        if compiled_met:
            same = bool(compiled_quality and compiled_quality.get("no_worse"))
            return same, ("by the compiled step (--compile, opt-in): " if same else
                          "the compiled step (--compile, opt-in) reaches it, but ") + quality_note
        return False, ""

    fraction = t["loop_fraction_of_floor"]
    compiled_fraction = t["floor_seconds"] / c["loop_seconds"] if c else None
    met, note = met_by(fraction >= TARGETS["floor_fraction"],
                       c and compiled_fraction >= TARGETS["floor_fraction"])
    row("training throughput (`Run.advance`) / matmul floor", f">= {TARGETS['floor_fraction']:.0%}",
        compiled_fraction if compiled_fraction and note else fraction,
        f"eager {fraction:.0%} ({t['loop_gflops']:.0f} of {t['floor_gflops']:.0f} GFLOP/s)"
        + (f"; compiled {compiled_fraction:.0%}" if c else "; compiled not measured"), met, note)
    over = t["loop_over_reference"]
    compiled_over = c["loop_over_reference"] if c else None
    met, note = met_by(over >= TARGETS["over_reference"], c and compiled_over >= TARGETS["over_reference"])
    row("EnergyLab's loop / plain reference loop, same configuration", f">= {TARGETS['over_reference']:g}x",
        compiled_over if compiled_over and note else over,
        f"eager {over:.2f}x" + (f"; compiled {compiled_over:.2f}x" if c else "; compiled not measured"), met, note)
    generator, baseline = q["generator"], q["langevin_20"]
    ratio, note = None, ""
    if generator["reached"] and baseline["reached"]:
        ratio = generator["reached"]["seconds"] / baseline["reached"]["seconds"]
    else:
        best = max((r[3] for r in generator["trace"]), default=0.0)
        note = (f"the generator never reached 80 % high quality (best {best:.0%} in {generator['iterations']:,} "
                "iterations)" if not generator["reached"] else "")
        if not baseline["reached"]:
            note += ("; " if note else "") + "Langevin did not reach it within the cap"
    row("generator's training time to the ring's bar (8/8 modes, 80 % high quality) / Langevin's (20 steps)",
        f"<= {TARGETS['time_to_quality_ratio']:.2f}", ratio, "not reached" if ratio is None else f"{ratio:.2f}",
        ratio is not None and ratio <= TARGETS["time_to_quality_ratio"], note)
    own, chains = generator["sampling"], baseline["sampling"]
    speedup = own["samples_per_second"] / chains["samples_per_second"]
    problems = [f"G(z) samples are at {own['high_quality_fraction']:.0%} high quality, below the bar"
                if not own["met"] else "", "" if chains["met"] else
                f"the chains did not reach the bar in {chains['steps']} steps"]
    row("generator's samples/s / Langevin chains' at that quality", f">= {TARGETS['sampling_speedup']:g}x", speedup,
        f"{speedup:,.0f}x", speedup >= TARGETS["sampling_speedup"] and own["met"] and chains["met"],
        "; ".join(p for p in problems if p))
    row("200 x 200 landscape with log Z", f"< {TARGETS['landscape_seconds'] * 1000:g} ms", a["landscape_seconds"],
        f"{a['landscape_seconds'] * 1000:.0f} ms", a["landscape_seconds"] < TARGETS["landscape_seconds"])
    if cold is not None and "frame_max_bytes" in cold:
        row("live frame while training (largest on the wire)", f"< {TARGETS['frame_bytes'] // 1000} KB",
            cold["frame_max_bytes"],
            f"{cold['frame_max_bytes'] / 1000:.0f} KB (median {cold['frame_median_bytes'] / 1000:.0f})",
            cold["frame_max_bytes"] < TARGETS["frame_bytes"],
            f"a still frame (fine grid, contours; once, when training stops) {cold['frame_first_bytes'] / 1000:.0f} KB")
        row("cold start: `python app.py` to the page (HTTP 200)", f"< {TARGETS['cold_start_seconds']:g} s",
            cold["http_seconds"], f"{cold['http_seconds']:.1f} s", cold["http_seconds"] < TARGETS["cold_start_seconds"],
            f"first landscape at {cold['first_landscape_seconds']:.1f} s; the app's own CPU time to the page "
            f"{cold['http_cpu_seconds'] or 0:.1f} s")
    return rows


def main(argv=None) -> None:
    parser = ArgumentParser(prog="benchmarks.speed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny windows and caps: checks the bench runs")
    parser.add_argument("--device", default="auto", help="auto (CPU, and CUDA too when present), cpu or cuda")
    parser.add_argument("--out", default=OUT_DIR,
                        help="folder for results.json and results.md (default runs/benchmarks; the shipped "
                             "record: --out benchmarks)")
    parser.add_argument("--no-app", action="store_true", help="skip launching python app.py (cold start, frames)")
    parser.add_argument("--no-compile", action="store_true",
                        help="skip the compiled training step (compiling takes ~10-40 s; --quick skips it too)")
    parser.add_threads_flag()
    args = parser.parse_args(argv)
    set_threads(args.threads)
    started = time.perf_counter()
    load_start = os.getloadavg()
    devices = ["cpu", "cuda"] if args.device == "auto" and torch.cuda.is_available() else [pick_device(args.device)]
    print(f"benchmarks.speed: {', '.join(devices)}, {torch.get_num_threads()} torch thread(s), "
          f"load {load_start[0]:.2f}", file=sys.stderr)
    measured = {device: measure(device, args.quick) for device in devices}
    main_device = measured[devices[0]]
    compiled = None
    if not (args.quick or args.no_compile):
        section = time.perf_counter()
        compiled = throughput.compiled_throughput(resolve(preset_options("paper"), {}), devices[0])
        main_device["section_seconds"]["compile"] = round(time.perf_counter() - section, 1)
        print(f"benchmarks.speed: {devices[0]} compile {main_device['section_seconds']['compile']:.1f} s",
              file=sys.stderr)
    cold = imports = None
    if not (args.quick or args.no_app):
        cold = speed_app.cold_start()
        imports = speed_app.import_profile()
    results = {
        "meta": {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "quick": args.quick, "devices": devices,
                 "cpu": cpu_name(), "cores": os.cpu_count(), "torch": torch.__version__,
                 "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
                 "cuda_available": torch.cuda.is_available(),
                 "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                 "load_average_start": list(load_start), "load_average_end": list(os.getloadavg()),
                 "seconds": None, "section_seconds": main_device["section_seconds"]},
        "matmul": main_device["matmul"], "training": main_device["training"], "quality": main_device["quality"],
        "app": main_device["app"], "cold_start": cold, "imports": imports,
        "cuda": measured.get("cuda"),
        "compile": compiled,
    }
    results["compiled_quality"] = compiled_quality_study()
    results["targets"] = targets(main_device, cold, compiled, results["compiled_quality"])
    results["meta"]["seconds"] = time.perf_counter() - started
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1, default=float)
    table = report.markdown(results)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(table)
    print(table)
    print(f"benchmarks.speed: {results['meta']['seconds']:.0f} s; wrote {args.out}/results.json and results.md",
          file=sys.stderr)


if __name__ == "__main__":
    main_guard(main, "benchmarks.speed")

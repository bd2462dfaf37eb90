"""results.json -> the markdown tables of benchmarks/results.md (which docs/speed.md quotes)."""
from __future__ import annotations


def _ms(seconds) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.1f}"


def _num(value, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def quality_study(study: dict) -> str:
    """benchmarks/compiled_quality.py's comparison in one clause: both sides, the difference, its
    interval and the verdict against the study's margin (the benchmark's rows, its report, the study)."""
    e, c, (low, high) = study["eager"], study["compiled"], study["interval"]
    verdict = "no worse than -" if study["no_worse"] else "not shown to be no worse than -"
    return (f"high quality {c['mean']:.3f} ± {c['sd']:.3f} against eager's {e['mean']:.3f} ± {e['sd']:.3f}; "
            f"difference {study['difference']:+.3f}, bootstrap 95 % interval {low:+.3f} to {high:+.3f}: "
            f"{verdict}{study['margin']:g}")


def markdown(r: dict) -> str:
    meta, t, q, a = r["meta"], r["training"], r["quality"], r["app"]
    load = f"{meta['load_average_start'][0]:.2f} at the start, {meta['load_average_end'][0]:.2f} at the end"
    gpu = (f"GPU: {meta['gpu']} (figures in results.json under `cuda`)" if meta["gpu"] else
           "no GPU on this machine: the CUDA figures were not measured")
    lines = [
        f"`python -m benchmarks.speed`{' --quick' if meta['quick'] else ''}, {meta['date']}: {meta['cpu']}, "
        f"{meta['cores']} cores, torch {meta['torch']}, {meta['torch_threads']} torch thread (as the app and "
        f"the command line), {gpu}. Load average {load}: the machine is shared, so timings are indicative; "
        f"training figures are in this thread's CPU time (best of 5 interleaved windows), wall-clock in results.json. "
        f"Whole run {meta['seconds']:.0f} s.",
        "",
        "| target | goal | measured | status |",
        "|---|---|---|---|",
    ]
    for row in r["targets"]:
        status = "met" if row["met"] else "**miss**"
        lines.append(f"| {row['target']} | {row['goal']} | {row['shown']} | {status}"
                     f"{': ' + row['note'] if row['note'] else ''} |")

    floor = t["floor_seconds"]
    m = r["matmul"]
    lines += [
        "",
        f"Training, default 2-D configuration (`ring` preset: batch 256, networks 128 wide). One iteration = "
        f"{t['flops_per_iteration'] / 1e6:.1f} MFLOP of matrix products (analytic count; "
        f"torch.utils.flop_counter: {t['flops_counted'] / 1e6:.1f}; the 'forward x 3' rule of thumb would say "
        f"{t['flops_rule_of_thumb_x3'] / 1e6:.1f}) in {t['matmuls_per_iteration']} products. Float32 matmul rate: "
        f"{m['network']['gflops']:.0f} GFLOP/s at 256 x 128 x 128, {m['network_2b']['gflops']:.0f} at 512 x 128 x 128, "
        f"{m['large']['gflops']:.0f} at {m['large']['m']}³; the iteration's own products, replayed alone: "
        f"{t['floor_gflops']:.0f} GFLOP/s (its skinny 2- and 4-wide layers run far below peak). That replay "
        f"is the floor the fraction uses.",
        "",
        "| loop | ms / iteration | iterations / s | GFLOP/s | fraction of the floor | fraction of large-GEMM rate |",
        "|---|---|---|---|---|---|",
        f"| floor: the iteration's matmuls alone | {_ms(floor)} | {1 / floor:,.0f} | {t['floor_gflops']:.0f} | 100 % | "
        f"{t['floor_gflops'] / m['large']['gflops']:.0%} |",
    ]
    if "arithmetic_seconds" in t:
        for name, key in ((f"the iteration's arithmetic kernels alone (matmuls, activations, batch norm, forward and "
                           f"backward: {t['arithmetic_ops']} ops)", "arithmetic"),
                          (f"all {t['ops_per_iteration']} aten ops of one iteration, replayed alone", "all_ops")):
            seconds = t[f"{key}_seconds"]
            gflops = t["flops_per_iteration"] / seconds / 1e9
            lines.append(f"| {name} | {_ms(seconds)} | {1 / seconds:,.0f} | {gflops:.0f} | {floor / seconds:.0%} | "
                         f"{gflops / m['large']['gflops']:.0%} |")
    for name, key in (("EnergyLab `train_step` (hot path)", "step"),
                      ("EnergyLab `Run.advance` (the CLI's and app's loop)", "loop"),
                      ("`Run.advance` with its progress evaluation every 250 steps", "loop_with_progress"),
                      ("plain reference loop", "reference")):
        seconds = t[f"{key}_seconds"]
        gflops = t["flops_per_iteration"] / seconds / 1e9
        lines.append(f"| {name} | {_ms(seconds)} | {1 / seconds:,.0f} | {gflops:.0f} | {floor / seconds:.0%} | "
                     f"{gflops / m['large']['gflops']:.0%} |")
    cc = r.get("compile")
    if cc and cc.get("compiled"):
        # the compiled loop, interleaved with its own eager loop and reference (benchmarks/throughput.py)
        for name, key in ((f"`Run.advance`, whole iteration compiled (`--compile`): {cc['loop_over_reference']:.2f}x "
                           f"the reference loop", "loop_seconds"),
                          (f"`Run.advance` eager, in the same windows: {cc['eager_loop_over_reference']:.2f}x the "
                           f"reference loop", "eager_loop_seconds")):
            seconds = cc[key]
            gflops = t["flops_per_iteration"] / seconds / 1e9
            lines.append(f"| {name} | {_ms(seconds)} | {1 / seconds:,.0f} | {gflops:.0f} | {floor / seconds:.0%} | "
                         f"{gflops / m['large']['gflops']:.0%} |")
    if "arithmetic_seconds" in t:
        lines.append(f"\nAn eager loop that ran nothing but this iteration's arithmetic kernels would reach "
                     f"{floor / t['arithmetic_seconds']:.0%} of the floor and "
                     f"{t['reference_seconds'] / t['arithmetic_seconds']:.2f}x the reference loop; one that ran "
                     f"every op the iteration dispatches, with no autograd or Python between them, "
                     f"{floor / t['all_ops_seconds']:.0%} and {t['reference_seconds'] / t['all_ops_seconds']:.2f}x.")
    lines.append(f"\nEnergyLab's loop against the reference: {t['loop_over_reference']:.2f}x "
                 f"(the hot path alone {t['step_over_reference']:.2f}x; with its progress evaluation, "
                 f"{_ms(t['progress_evaluation_seconds'])} ms every 250 steps, "
                 f"{t['loop_with_progress_over_reference']:.2f}x).")

    lines += [
        "",
        "Generator against Langevin negatives on the ring (seed 0, same networks and data; quality bar: 8 of 8 modes "
        "and 80 % high-quality samples on 2,500 samples, checked every 50 iterations; training time in CPU seconds, "
        "evaluation not counted):",
        "",
        "| negatives | ms / iteration | to 8/8 and 50 % HQ | to 8/8 and 70 % HQ | to the bar (80 %) | last HQ | "
        "samples / s at the bar | sampler |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, label in (("generator", "generator G(z)"), ("langevin_20", "Langevin, 20 steps"),
                        ("langevin_60", "Langevin, 60 steps")):
        row = q.get(name)
        if row is None:
            continue

        def bar(key, row=row):
            found = row["bars"].get(key)
            return "not reached" if found is None else f"{found['seconds']:.1f} s ({found['step']:,} it)"
        s = row["sampling"]
        last = row["final"]["high_quality_fraction"] if row["final"] else None
        sampler = ("G(z), 2,500 at once" if name == "generator" else
                   f"chains from noise, {s['steps']} steps ({'met' if s['met'] else 'bar not met'})")
        rate = f"{s['samples_per_second']:,.0f}" + ("" if s["met"] else " (below the bar)")
        lines.append(f"| {label} | {_ms(row['seconds_per_iteration'])} | {bar('0.5')} | {bar('0.7')} | {bar('0.8')} | "
                     f"{_num(last, 3)} | {rate} | {sampler} |")
    for name in ("langevin_20", "langevin_60"):
        s = q.get(name, {}).get("sampling") if q.get(name) else None
        if s and s.get("app_samples_per_second"):
            lines.append(f"\nThe app's Langevin sampler ({s['app_steps']} steps from noise), "
                         f"{name.replace('_', ' ')} energy: "
                         f"{s['app_samples_per_second']:,.0f} samples/s, {s['app_quality']['modes_covered']}/8 modes, "
                         f"{s['app_quality']['high_quality_fraction']:.0%} high quality.")

    c, imp = r.get("cold_start"), r.get("imports")
    lines += [
        "",
        "The app (pretrained `ring` pair; in process, as its handlers compute them):",
        "",
        "| what | ms | bytes |",
        "|---|---|---|",
        f"| landscape {a['resolution']} x {a['resolution']}: energy on the grid "
        f"| {_ms(a['landscape_energy_seconds'])} | |",
        f"| ... + log Z (the ring around the box: {a['resolution']}² cells and {a['ring_cells']:,} coarse ones) "
        f"| {_ms(a['landscape_seconds'])} | |",
        f"| ... + figure built (JSON) | {_ms(a['landscape_total_seconds'])} | {a['landscape_figure_bytes']:,} |",
        f"| gallery (64 samples, sorted) | {_ms(a['gallery_seconds'])} | |",
        f"| interpolation (24 steps, slerp) | {_ms(a['interpolation_seconds'])} | |",
        f"| a frame while training: probes (48² grid) | {_ms(a['frame_training_make_seconds'])} | "
        f"{' + '.join(f'{k} {v:,}' for k, v in a['frame_training_parts_bytes'].items())} |",
        f"| a still frame: probes (150² grid) | {_ms(a['frame_still_make_seconds'])} | "
        f"{' + '.join(f'{k} {v:,}' for k, v in a['frame_still_parts_bytes'].items())} |",
    ]
    if c:
        lines += [
            "",
            f"`python app.py`, cold: HTTP 200 on `/` after {c['http_seconds']:.1f} s "
            f"({_num(c.get('http_cpu_seconds'), 1)} s of the app's CPU time); the first landscape (the page's "
            f"load event) after {c['first_landscape_seconds']:.1f} s "
            f"({_num(c.get('first_landscape_cpu_seconds'), 1)} s CPU). Live frames on the wire (Train, ring preset, "
            f"Gradio's event stream): {_num(c.get('frame_median_bytes'))} bytes median, "
            f"{_num(c.get('frame_max_bytes'))} the largest (curves and histogram ride along every 5th frame), "
            f"{_num(c.get('frames_per_second'), 1)} frames/s, {_num((c.get('bytes_per_second') or 0) / 1000, 0)} kB/s; "
            f"the first (a new run's still frame, fine grid with contours) {_num(c.get('frame_first_bytes'))} bytes.",
        ]
    if imp:
        lines.append(f"Start-up: `import app` {imp['import_app_seconds']:.1f} s "
                     f"({imp['import_app_cpu_seconds']:.1f} s CPU; largest: "
                     + ", ".join(f"{n} {s:.1f} s" for n, s in imp["top_imports"])
                     + f"), `build_app()` {imp['build_app_seconds']:.1f} s; the rest is Gradio's launch.")
    g = r.get("cuda")
    if g:
        gt, ga, gq = g["training"], g["app"], g["quality"]
        lines += ["", f"On the GPU ({meta['gpu']}; wall-clock after synchronising): "
                  f"`Run.advance` {_ms(gt['loop_seconds'])} ms an iteration "
                  f"({gt['loop_fraction_of_floor']:.0%} of its matmul floor, {gt['loop_over_reference']:.2f}x "
                  f"the reference loop); generator {_ms(gq['generator']['seconds_per_iteration'])} ms, "
                  f"Langevin 20 steps {_ms(gq['langevin_20']['seconds_per_iteration'])} ms an iteration; "
                  f"200 x 200 landscape with log Z {_ms(ga['landscape_seconds'])} ms."]
    c = cc
    if c and c.get("compiled"):
        cached = "; from inductor's disk cache" if c.get("compile_cache_hit") else ""
        lines += ["", f"The whole iteration compiled (`--compile`, models/compiled_step.py; torch.compile, inductor, "
                  f"one graph, in two variants: with the step's losses, and without for the 9 steps in 10 whose losses "
                  f"are not read): {c['compile_seconds']:.0f} s to compile both "
                  f"({c['compile_cpu_seconds']:.0f} s of this process's CPU{cached}), "
                  f"then {_ms(c['loop_seconds'])} ms an iteration against {_ms(c['eager_loop_seconds'])} eager "
                  f"({c['speedup']:.2f}x), {c['loop_over_reference']:.2f}x the reference loop "
                  f"({_ms(c['reference_seconds'])} ms in the same windows; "
                  f"eager {c['eager_loop_over_reference']:.2f}x)."]
    elif c:
        lines += ["", f"The compiled step could not be compiled here ({c['compile_seconds']:.0f} s tried): eager only."]
    study = r.get("compiled_quality")
    if study:
        lines += ["", f"Its quality (`benchmarks/compiled_quality.py`, this compiled graph; ring preset, seeds "
                  f"{study['seeds'][0]}-{study['seeds'][-1]}, the command line's runs): {quality_study(study)} "
                  f"(medians {study['compiled']['median']:.3f} and {study['eager']['median']:.3f}; "
                  f"{study['compiled']['below_0_7']} and {study['eager']['below_0_7']} runs under 0.7)."]
    elif c and c.get("compiled"):
        lines += ["", "Its quality: no seed study of this compiled graph "
                      "(`python -m benchmarks.compiled_quality --out benchmarks`)."]
    return "\n".join(lines) + "\n"

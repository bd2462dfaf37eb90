"""The benchmark's own contract (explorer/bench*.py): its FLOP count, that its reference loop is the
same configuration as EnergyLab's, and that `--quick` writes every figure. No timing is asserted."""
import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from benchmarks import flops, speed
from benchmarks.reference_loop import ReferenceLoop
from explorer.config.build import build_models
from explorer.config.options import resolve
from explorer.config.presets import preset_options
from explorer.training.run import Run
from models import train_step

SMALL = {"dataset": "ring", "method": "paper", "hidden": 8, "latent_dim": 3, "batch_size": 4, "generator_depth": 2,
         "seed": 0}


def test_flop_count_matches_a_hand_computed_case():
    # generator 3 -> 8 -> 8 -> 2, energy 2 -> 8 -> 8 -> 8 experts; batch 4; 2 N in out per product
    options = resolve(None, SMALL)
    energy, generator = build_models(options, 2, "cpu")
    g = 2 * 4 * (3 * 8 + 8 * 8 + 8 * 2)            # one G forward on 4 points: 832
    e = 2 * 4 * (2 * 8 + 8 * 8 + 8 * 8)            # one E forward on 4 points: 1,152
    generator_step = (g                             # G forward
                      + 2 * 4 * (3 * 8 + 8 * 8 + 8 * 2)   # G weight gradients
                      + 2 * 4 * (8 * 8 + 8 * 2)          # G input gradients, all but the first layer
                      + e + e)                     # E forward, and its input gradients (all layers)
    energy_step = (g                                # G(z) again, no gradients
                   + 2 * e                          # E on 8 points
                   + 2 * e                          # its weight gradients
                   + 2 * 8 * (8 * 8 + 8 * 8))       # its input gradients, all but the first layer
    assert generator_step == 4_608 and energy_step == 7_488
    counted = flops.iteration_flops(energy, generator, 4)
    assert counted["generator_step"] == generator_step
    assert counted["energy_step"] == energy_step
    assert counted["total"] == generator_step + energy_step


def test_flop_count_agrees_with_torch_flop_counter():
    options = resolve(preset_options("paper"), {"batch_size": 32})
    run = Run(options)
    analytic = flops.iteration_flops(run.energy, run.generator, 32)["total"]
    assert flops.counted_flops(run.state, run._batch()) == analytic
    calls = flops.matmul_calls(run.state, run._batch())
    assert flops.call_flops(calls) == analytic


def test_the_recorded_ops_of_an_iteration_replay_its_arithmetic():
    run = Run(resolve(preset_options("paper"), {}))
    train_step(run.state, run._batch())
    calls = flops.aten_calls(run.state, run._batch())
    names = [func.overloadpacket.__name__ for func, _, _ in calls]
    # the 25 products matmul_calls finds, and each network's activations forward and backward
    assert names.count("mm") + names.count("addmm") == len(flops.matmul_calls(run.state, run._batch())) == 25
    for name, count in (("tanh", 2), ("softplus", 2), ("tanh_backward", 2), ("native_batch_norm", 4),
                        ("native_batch_norm_backward", 2)):
        assert names.count(name) == count, name
    # a replayed op computes what the iteration computed: its recorded inputs give its recorded output
    func, args, kwargs = next(c for c in calls if c[0].overloadpacket.__name__ == "tanh")
    assert torch.equal(func(*args, **kwargs), torch.tanh(args[0]))
    timing = flops.replay_calls(calls, "cpu", repeats=1, inner=1)
    assert timing["calls"] == len(calls) and timing["seconds"] > 0


def test_reference_loop_computes_the_same_losses_as_energylab_on_the_same_seed():
    options = resolve(preset_options("paper"), {"seed": 3})
    run = Run(options)
    reference = ReferenceLoop(options, run.dataset)
    for mine, theirs in zip(run.energy.state_dict().values(), reference.energy.state_dict().values(), strict=True):
        assert torch.equal(mine, theirs)    # the same networks, initialised alike
    real = run._batch()
    ours = {k: float(v) for k, v in train_step(run.state, real).items()}
    loss_generator, loss_energy = reference.step(real.clone())
    assert loss_generator == pytest.approx(ours["loss_generator"], rel=1e-6, abs=1e-6)
    assert loss_energy == pytest.approx(ours["loss_energy"], rel=1e-4, abs=1e-5)
    # a second step: both networks took the same first update
    real = run._batch()
    ours = {k: float(v) for k, v in train_step(run.state, real).items()}
    loss_generator, loss_energy = reference.step(real.clone())
    assert loss_generator == pytest.approx(ours["loss_generator"], rel=1e-4, abs=1e-4)
    assert loss_energy == pytest.approx(ours["loss_energy"], rel=1e-3, abs=1e-4)


def test_quick_bench_writes_every_figure(tmp_path, repo_root):
    done = subprocess.run([sys.executable, "-m", "benchmarks.speed", "--quick", "--out", str(tmp_path)],
                          cwd=repo_root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    with open(tmp_path / "results.json") as f:
        results = json.load(f)
    assert set(speed.SECTIONS) <= set(results)
    meta = results["meta"]
    assert meta["quick"] and meta["torch_threads"] == 1 and len(meta["load_average_start"]) == 3
    assert meta["devices"] == (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    training = results["training"]
    assert training["flops_per_iteration"] == training["flops_counted"] > 0
    for key in ("floor_seconds", "step_seconds", "loop_seconds", "reference_seconds", "loop_fraction_of_floor",
                "loop_over_reference", "progress_evaluation_seconds"):
        assert training[key] > 0, key
    for key in ("network", "network_2b", "large"):
        assert results["matmul"][key]["gflops"] > 0
    quality = results["quality"]
    assert set(quality) == {"generator", "langevin_20", "langevin_60"}
    for name, row in quality.items():
        assert row["seconds_per_iteration"] > 0 and row["trace"], name
        assert set(row["bars"]) == {"0.5", "0.7", "0.8"}
        assert row["sampling"]["samples_per_second"] > 0
    assert quality["langevin_60"]["langevin_steps"] == 60
    app = results["app"]
    for key in ("landscape_seconds", "landscape_energy_seconds", "landscape_figure_seconds", "gallery_seconds",
                "interpolation_seconds", "frame_training_make_seconds"):
        assert app[key] > 0, key
    assert app["resolution"] == 200 and app["landscape_figure_bytes"] > 0
    assert results["cold_start"] is None and results["imports"] is None   # --quick launches no app
    assert {row["target"] for row in results["targets"]} and all("met" in row for row in results["targets"])
    table = (tmp_path / "results.md").read_text()
    assert "| target | goal | measured | status |" in table and "plain reference loop" in table


def measured(fraction: float, over: float) -> dict:
    """The least of a measurement that speed.targets reads: eager at `fraction` of the floor and
    `over` times the reference; the quality and app rows filled in, not under test here."""
    trace = [[50, 0.1, 8, 0.85]]
    sampling = {"samples_per_second": 1e6, "high_quality_fraction": 0.85, "met": True}
    reached = {"seconds": 10.0}
    return {"training": {"loop_fraction_of_floor": fraction, "loop_over_reference": over, "floor_seconds": 2e-3,
                         "loop_gflops": 40.0, "floor_gflops": 80.0},
            "quality": {"generator": {"reached": reached, "trace": trace, "iterations": 100, "sampling": sampling},
                        "langevin_20": {"reached": {"seconds": 40.0}, "trace": trace, "iterations": 100,
                                        "sampling": {**sampling, "samples_per_second": 1e3}}},
            "app": {"landscape_seconds": 0.04}}


def study(same: bool) -> dict:
    group = {"mean": 0.79, "sd": 0.06}
    return {"fingerprint": "x", "seeds": list(range(40)), "eager": group, "compiled": group, "margin": 0.05,
            "difference": 0.0 if same else -0.04, "interval": [-0.03, 0.03] if same else [-0.08, 0.0],
            "no_worse": same}


def test_the_compiled_steps_speed_counts_only_with_the_same_quality_shown():
    cpu = measured(fraction=0.5, over=1.3)
    compiled = {"compiled": True, "loop_seconds": 2.5e-3, "loop_over_reference": 2.1}   # 80 % of the floor
    for quality, counted in ((study(True), True), (study(False), False), (None, False)):
        rows = {r["target"]: r for r in speed.targets(cpu, None, compiled, quality)}
        floor = rows["training throughput (`Run.advance`) / matmul floor"]
        reference = rows["EnergyLab's loop / plain reference loop, same configuration"]
        assert floor["met"] is reference["met"] is counted
        assert floor["measured"] == pytest.approx(0.8) and "compiled 80%" in floor["shown"]
        assert ("by the compiled step" in floor["note"]) is counted
        assert ("the same quality is not shown" in floor["note"]) is (not counted)
    # eager meeting a target needs no study; the compiled step missing it is not rescued by one
    rows = speed.targets(measured(fraction=0.65, over=1.3), None,
                         {**compiled, "loop_seconds": 4e-3, "loop_over_reference": 1.5}, study(True))
    assert [r["met"] for r in rows[:2]] == [True, False] and rows[1]["note"] == ""


def test_a_seed_study_of_another_compiled_graph_is_not_used(tmp_path):
    from models import compiled_step
    path = tmp_path / "compiled_quality.json"
    assert speed.compiled_quality_study(str(path)) is None                     # none run
    path.write_text(json.dumps({**study(True), "fingerprint": compiled_step.fingerprint()}))
    assert speed.compiled_quality_study(str(path))["no_worse"] is True
    path.write_text(json.dumps(study(True)))                                    # of an older graph
    assert speed.compiled_quality_study(str(path)) is None
    path.write_text("{not json")
    assert speed.compiled_quality_study(str(path)) is None


def test_a_benchmark_run_writes_under_runs_unless_told_to_update_the_shipped_record():
    root = os.path.dirname(speed.HERE)
    assert speed.OUT_DIR == os.path.join(root, "runs", "benchmarks")
    assert os.path.exists(os.path.join(speed.HERE, "results.json"))   # the shipped record stays beside the code


# a benchmark's source that writes files (the app's own runs go through explorer/, not these calls)
WRITES = re.compile(r"""open\(.*["'][wax]\+?b?["']\)|\.savetxt\(|\.savefig\(|\.to_csv\(|\.write_(text|bytes)\(""")


def test_no_benchmark_writes_into_the_tracked_benchmarks_folder_by_default(repo_root):
    """benchmarks/ holds the shipped record (results.*, compiled_quality.*): a benchmark tried on
    another machine must not overwrite or extend it unless told (--out benchmarks). Each benchmark
    that writes files names what it writes unless told (DEFAULT_OUTPUTS), under runs/ (ignored by git)."""
    root = Path(repo_root).resolve()
    writers = [path for path in sorted((root / "benchmarks").glob("*.py")) if WRITES.search(path.read_text())]
    assert {"speed.py", "compiled_quality.py"} <= {path.name for path in writers}   # the pattern still finds them
    for path in writers:
        module = importlib.import_module(f"benchmarks.{path.stem}")
        assert hasattr(module, "DEFAULT_OUTPUTS"), f"{path.name} writes files: name its default outputs"
        for output in module.DEFAULT_OUTPUTS:
            where = Path(output).resolve()
            assert where.is_relative_to(root / "runs"), f"{path.name} writes {where} by default, not under runs/"
            assert not where.is_relative_to(root / "benchmarks"), f"{path.name} writes into benchmarks/ by default"


def test_the_compiled_quality_summary_goes_to_the_folder_it_is_told(tmp_path, repo_root):
    from models import compiled_step
    shipped = [Path(repo_root, "benchmarks", name) for name in ("compiled_quality.json", "compiled_quality.jsonl")]
    before = [path.read_bytes() if path.exists() else None for path in shipped]
    records = [{"mode": mode, "seed": seed, "fingerprint": compiled_step.fingerprint(), "modes": 8, "hq": hq,
                "train_seconds": 30.0} for mode, hqs in (("eager", (0.7, 0.8)), ("compiled", (0.75, 0.78)))
               for seed, hq in enumerate(hqs)]
    (tmp_path / "compiled_quality.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    done = subprocess.run([sys.executable, "-m", "benchmarks.compiled_quality", "--summary", "--out", str(tmp_path)],
                          cwd=repo_root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    with open(tmp_path / "compiled_quality.json") as f:
        assert json.load(f)["seeds"] == [0, 1]
    assert [path.read_bytes() if path.exists() else None for path in shipped] == before   # the record untouched

"""The compiled training step (models/compiled_step.py, `--compile`): the same iteration as eager
train_step on one shared state, finite and learning over hundreds of steps, restore points and
learning-rate changes honoured without recompiling, uncovered configurations and failed compiles
running eager. Every compiled test uses one configuration, so the graph is compiled once."""
import logging
import math

import numpy as np
import pytest
import torch

from explorer.config.options import resolve
from explorer.config.presets import preset_options
from explorer.training.run import Run
from models import compiled_step, load_pair, train_step

# the ring preset with a small batch: one compile (~10-40 s) serves the whole file
OPTIONS = resolve(preset_options("paper"), {"batch_size": 64, "steps": 400})


def params(run):
    return {f"{net}.{k}": v.detach().clone() for net in ("energy", "generator")
            for k, v in getattr(run, net).state_dict().items()}


def twins(steps: int = 30):
    """Two runs, bit-identical after `steps` eager iterations (Adam's moments built up)."""
    a, b = Run(OPTIONS), Run(OPTIONS)
    for _ in range(steps):
        train_step(a.state, a._batch())
        train_step(b.state, b._batch())
    return a, b


@pytest.fixture(scope="module")
def compiled_run():
    """A run whose first compiled step has been taken (this compiles the graph)."""
    compiled_step._failure = None
    run = Run({**OPTIONS, "compile": True})
    run.advance(1)
    assert run.state.compiled_steps == 1 and compiled_step.failure() is None
    return run


def assert_same_update(eager, compiled):
    """The two runs' parameters agree to float rounding after the same step."""
    after_eager, after_compiled = params(eager), params(compiled)
    for name, value in after_eager.items():
        if name in ("generator.net.0.bias", "generator.net.3.bias"):
            # a bias just before batch norm cancels out: its true gradient is 0 and what is computed
            # is float noise, which Adam scales to about +-lr either way; only its size is comparable
            assert (after_compiled[name] - value).abs().max() <= 2.5 * OPTIONS["lr_generator"]
            continue
        assert torch.allclose(after_compiled[name].float(), value.float(), rtol=1e-5, atol=1e-6), name


def test_one_compiled_step_agrees_with_one_eager_step(compiled_run):
    a, b = twins()
    b.state.config.compile = True
    real = a._batch()
    assert torch.equal(real, b._batch())
    eager, compiled = train_step(a.state, real), train_step(b.state, real)
    assert b.state.compiled_steps == 1 and a.state.compiled_steps == 0
    assert set(eager) == set(compiled) and all(v.dim() == 0 for v in compiled.values())
    for k in eager:
        assert float(compiled[k]) == pytest.approx(float(eager[k]), rel=1e-5, abs=1e-4), k
    assert_same_update(a, b)
    for mine, theirs in zip(a.state.build_optimisers(), b.state.build_optimisers(), strict=True):
        assert mine.steps == theirs.steps
    # both batch-norm passes counted, as eager batch norm does; running statistics updated once
    bn = b.generator.batchnorm_layers()[0]
    assert int(bn.num_batches_tracked) == int(a.generator.batchnorm_layers()[0].num_batches_tracked) == 62


def test_hundreds_of_compiled_steps_stay_finite_and_learn(compiled_run):
    run = Run({**OPTIONS, "compile": True})
    real = torch.from_numpy(run.dataset.sample(1000, np.random.default_rng(1)))
    box = (torch.rand(1000, 2, generator=torch.Generator().manual_seed(0)) * 2 - 1) * 3   # the ring's box

    def gap():   # mean E(points spread over the box) - mean E(data): how much lower the data lie
        with torch.no_grad():
            return float(run.energy(box).mean() - run.energy(real).mean())
    assert abs(gap()) < 1
    while not run.done:
        run.advance(100)
        assert run.warning is None                        # no divergence caught on the way
    assert run.state.compiled_steps == OPTIONS["steps"]
    assert all(torch.isfinite(p).all() for p in run._parameters())
    assert all(math.isfinite(v) for _, v in run.history["loss_energy"])
    # eager, the same 400 steps: a gap of ~39 nats (compiled, ~48; the runs drift apart, see module doc)
    assert gap() > 10


def test_restore_point_round_trip_and_switching_to_eager(compiled_run):
    run = Run({**OPTIONS, "compile": True})
    run.advance(20)
    saved = run._last_good = run._copy_state()
    kept = params(run)
    run.advance(20)
    assert not torch.equal(params(run)["energy.experts.weight"], kept["energy.experts.weight"])
    run._diverged({"loss": float("nan")})       # what a diverged run does: back to the restore point
    assert run.step == 20 and all(torch.equal(params(run)[k], v) for k, v in kept.items())
    assert all(o.steps == [20] * len(o.params) for o in run.state.build_optimisers())
    run.resume()
    # from the restored state, a compiled step and an eager one on the same batch agree
    twin = Run(OPTIONS)
    twin.energy.load_state_dict(saved["energy"])
    twin.generator.load_state_dict(saved["generator"])
    twin.state.restore_optimisers(saved["optimisers"])
    twin.state.rng.set_state(run.state.rng.get_state())   # the same z
    real = run._batch()
    ours, theirs = train_step(run.state, real), train_step(twin.state, real)
    assert float(ours["loss_energy"]) == pytest.approx(float(theirs["loss_energy"]), rel=1e-4, abs=1e-4)
    # the compiled state carries on eager (and back) on one set of buffers
    run.state.config.compile = False
    train_step(run.state, run._batch())
    run.state.config.compile = True
    train_step(run.state, run._batch())
    assert all(o.steps == [23] * len(o.params) for o in run.state.build_optimisers())


def test_learning_rate_change_takes_effect_without_recompiling(compiled_run):
    from torch._dynamo.utils import counters
    a, b = twins(5)
    for run in (a, b):
        run.state.config.compile = True
        train_step(run.state, run._batch())
    frames = dict(counters["frames"])
    a.state.set_learning_rates(1e-2, 1e-2)
    b.state.set_learning_rates(0.0, 0.0)
    before = params(b)
    train_step(a.state, a._batch())
    train_step(b.state, b._batch())
    assert dict(counters["frames"]) == frames            # no new frame compiled
    after = params(b)
    for name in before:   # learning rate 0: the parameters stay (the running statistics move)
        if "running" not in name and "num_batches" not in name:
            assert torch.equal(before[name], after[name]), name
    assert not torch.equal(params(a)["energy.experts.weight"], after["energy.experts.weight"])
    moved = (params(a)["energy.experts.weight"] - after["energy.experts.weight"]).abs().max()
    assert 5e-3 < moved < 0.1                             # one step of about lr = 1e-2


@pytest.mark.parametrize("given", [{"entropy": "knn"}, {"entropy": "vera"}, {"entropy": "mi"}, {"sampler": "langevin"},
                                   {"energy_magnitude": 0.1},
                                   {"gradient_penalty": 0.1}, {"energy_weight_decay": 1e-4}, {"spectral_norm": True},
                                   {"dataset": "digits", "extractor": "conv", "hidden": 16, "batch_size": 8}])
def test_an_uncovered_configuration_runs_eager(given, monkeypatch):
    monkeypatch.setattr(compiled_step, "_failure", None)
    options = resolve(preset_options("paper") if "dataset" not in given else None, {**given, "steps": 10})
    eager, compiled = Run(options), Run({**options, "compile": True})
    for _ in range(2):
        train_step(eager.state, eager._batch())
        train_step(compiled.state, compiled._batch())
    assert compiled.state.compiled_steps == 0 and compiled_step.failure() is None
    assert all(torch.equal(params(eager)[k], v) for k, v in params(compiled).items())   # eager, bit for bit


def test_a_failed_compile_falls_back_to_eager_with_one_warning(monkeypatch, caplog):
    def broken_backend(graph, example_inputs):
        raise RuntimeError("no C++ compiler here")
    monkeypatch.setattr(compiled_step, "_failure", None)
    monkeypatch.setattr(compiled_step, "_compiled", {})
    monkeypatch.setattr(compiled_step, "BACKEND", broken_backend)
    eager, compiled = Run(OPTIONS), Run({**OPTIONS, "compile": True})
    with caplog.at_level(logging.WARNING, logger="models.compiled_step"):
        for _ in range(3):
            train_step(eager.state, eager._batch())
            metrics = train_step(compiled.state, compiled._batch())
    warnings = [r for r in caplog.records if r.name == "models.compiled_step"]
    assert len(warnings) == 1 and "eager" in warnings[0].getMessage()
    assert "no C++ compiler" in compiled_step.failure()
    assert compiled.state.compiled_steps == 0 and compiled.step == 3 and torch.isfinite(metrics["loss_energy"])
    # the failed attempt left no trace: the run is the eager one, bit for bit (random stream included)
    assert all(torch.equal(params(eager)[k], v) for k, v in params(compiled).items())


def test_a_pair_trained_compiled_saves_and_loads(compiled_run, tmp_path):
    run = Run({**OPTIONS, "compile": True})
    run.advance(30)
    assert run.state.compiled_steps == 30
    run.save(str(tmp_path))
    energy, generator, config = load_pair(str(tmp_path))
    assert config["options"]["compile"] is True
    for net, loaded in (("energy", energy), ("generator", generator)):
        for k, v in loaded.state_dict().items():
            assert torch.equal(v, getattr(run, net).state_dict()[k]), k
    again = Run.from_checkpoint(str(tmp_path))
    assert again.options["compile"] is True and again.step == 30
    again.advance(2)   # trains on (compiled again: the same graph, no recompile)
    assert again.state.compiled_steps == 2


def test_a_step_whose_losses_are_not_read_makes_the_same_update(compiled_run):
    a, b = twins()
    b.state.config.compile = True
    real = a._batch()
    assert torch.equal(real, b._batch())
    train_step(a.state, real)
    assert train_step(b.state, real, losses=False) == {}           # the graph without the losses
    assert b.state.compiled_steps == 1 and b.step == a.step == 31
    assert_same_update(a, b)


def test_the_loop_reads_losses_every_tenth_step_and_at_the_end(compiled_run):
    run = Run({**OPTIONS, "compile": True, "steps": 37})
    run.advance(25)                                            # a call ending between records
    run.advance(100)                                           # the rest of the run
    assert run.step == 37 and run.state.compiled_steps == 37
    steps = [s for s, _ in run.history["loss_energy"]]
    assert steps == [10, 20, 25, 30, 37]
    assert all(math.isfinite(v) for _, v in run.history["loss_energy"])

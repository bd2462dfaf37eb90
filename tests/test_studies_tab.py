"""The Studies tab without a browser: the shipped studies' catalogue, the dots figure against known
values, and a visitor's small study (tiny runs, each well under a second) run, stopped and failed."""
import json
import math
import multiprocessing
import os
import shutil
import time

import pytest
from scipy import stats

from explorer.config.options import resolve
from explorer.errors import UserInputError
from explorer.figures import studies as figures
from explorer.page import small_study, studies
from explorer.page.state import PageState
from explorer.studies import engine, shipped
from explorer.studies.spec import Study, Task, load_study, suite_names
from explorer.studies.worker import run_task
from explorer.training.turns import TURNS

TINY = {"dataset": "ring", "modes": 4, "steps": 20, "batch_size": 32, "hidden": 8, "latent_dim": 2}
# what differs between two runs of the same computation: the clock, the place, the process
VARIABLE = {"train_seconds", "steps_per_second", "evaluate_seconds"}


def tiny(**changes):
    return resolve(None, {**TINY, **changes})


def wait_until_ended(study, timeout=60.0):
    deadline = time.time() + timeout
    while study.state == small_study.RUNNING or study.running:
        assert time.time() < deadline, "the small study did not end in time"
        time.sleep(0.05)


# ---------------------------------------------------------------------------- the catalogue
def test_every_suite_is_listed_and_smoke_is_shipped_as_the_command_wrote_it():
    names = shipped.names()
    assert sorted(names[:len(suite_names())]) == suite_names() and names[0] == "scoreboard" and "smoke" in names
    smoke = shipped.load("smoke")
    assert smoke.shipped and smoke.done == 8 and smoke.study.name == "smoke"
    assert smoke.command == "python -m explorer.study smoke --out assets/studies/smoke"
    assert smoke.study.tasks == load_study("smoke").tasks   # the spec as run is the suite's
    written = json.load(open(os.path.join(smoke.folder, "summary.json")))
    for mine, theirs in zip(smoke.summary["groups"], written["groups"], strict=True):
        assert mine["metrics"]["nll"]["mean"] == pytest.approx(theirs["metrics"]["nll"]["mean"])
    assert not os.path.exists(os.path.join(smoke.folder, "plots.html"))   # assets stay small


def test_a_suite_without_results_says_so_and_how_to_make_them(tmp_path):
    folder = tmp_path / "studies"
    folder.mkdir()
    found = shipped.load("scoreboard", folder)
    assert not found.shipped and found.records == () and len(found.study.tasks) == len(load_study("scoreboard").tasks)
    assert found.command == "python -m explorer.study scoreboard --out assets/studies/scoreboard"
    with pytest.raises(UserInputError, match="unknown study"):
        shipped.load("../smoke", folder)


def test_a_folder_run_with_other_seeds_is_read_over_the_seeds_that_ran_and_reloaded_when_it_changes(tmp_path):
    folder = tmp_path / "studies"
    shutil.copytree(shipped.STUDIES_DIR / "smoke", folder / "smoke")
    extra = folder / "mine"
    extra.mkdir()
    (extra / "spec.toml").write_text((folder / "smoke" / "spec.toml").read_text())
    assert shipped.names(folder)[-1] == "mine"
    records = engine.read_records(str(folder / "smoke"))
    seed1 = [r for r in records if r["seed"] == 1]
    (extra / engine.RUNS_FILE).write_text("".join(json.dumps(r) + "\n" for r in seed1))
    first = shipped.load("mine", folder)
    assert first.study.seeds == (1,) and first.done == 4
    assert first.command == ("python -m explorer.study assets/studies/mine/spec.toml --seeds 1 "
                             "--out assets/studies/mine")
    assert shipped.seed_text((0, 1, 2)) == "0-2" and shipped.seed_text((0, 2)) == "0,2"
    assert shipped.load("mine", folder) is first   # cached
    time.sleep(0.01)
    with open(extra / engine.RUNS_FILE, "a") as f:
        f.writelines(json.dumps(r) + "\n" for r in records if r["seed"] == 0)
    os.utime(extra / engine.RUNS_FILE, (time.time() + 5, time.time() + 5))
    again = shipped.load("mine", folder)
    assert again is not first and again.study.seeds == (0, 1) and again.done == 8


def test_the_shipped_view_draws_the_chosen_metric_and_the_table():
    shown = studies.shipped_view("smoke", "nll")
    figure = json.loads(shown.figure)
    dots = [t for t in figure["data"] if t["name"] != "mean, 95 % interval"]
    assert sum(len(t["y"]) for t in dots) == 8 and shown.metric == "nll"
    assert "| ring | batchnorm | 2 |" in shown.table and not shown.table.startswith("#")
    assert ("NLL", "nll") in shown.metrics and "explorer.study smoke" in shown.text
    assert studies.shipped_view("smoke", "no-such-metric").metric == shown.metrics[0][1]
    assert ("smoke · 8 runs", "smoke") in studies.suite_choices()


# ---------------------------------------------------------------------------- the figure
def synthetic():
    """One configuration, two methods, three seeds: modes 1, 2, 3 and 4, 4, 4; one run failed."""
    tasks = tuple(Task("ring", method, seed, {"seed": seed}, 100) for seed in (0, 1, 2) for method in ("a", "b"))
    study = Study(name="t", description="", tasks=tasks, configurations=("ring",), methods=("a", "b"), seeds=(0, 1, 2),
                  metrics=("modes_covered", "high_quality_fraction"))
    values = {"a": [1, 2, 3], "b": [4, 4, 4]}
    records = [{"key": t.key, "configuration": "ring", "method": t.method, "seed": t.seed, "status": "done",
                "metrics": {"modes_covered": values[t.method][t.seed], "high_quality_fraction": 0.5}}
               for t in tasks]
    records.append({**records[0], "status": "failed", "reason": "boom", "metrics": {}})   # a retry that failed
    records.append({**records[0]})                                                      # and one that worked
    return study, records


def test_the_dots_are_each_seeds_value_and_the_mean_carries_its_t_interval():
    study, records = synthetic()
    figure = figures.dots_figure(study, records, "modes_covered").to_plotly_json()
    dots = {t["name"]: t for t in figure["data"] if t["name"] != "mean, 95 % interval"}
    assert dots["a"]["y"] == [1, 2, 3] and dots["b"]["y"] == [4, 4, 4] and dots["a"]["customdata"] == [0, 1, 2]
    assert all(-0.5 < x < 0.5 for x in dots["a"]["x"]) and all(0.5 < x < 1.5 for x in dots["b"]["x"])
    (mean,) = [t for t in figure["data"] if t["name"] == "mean, 95 % interval"]
    assert mean["y"] == [2.0, 4.0]
    half = stats.t.ppf(0.975, 2) * 1.0 / math.sqrt(3)   # sd 1 over 3 seeds
    assert mean["error_y"]["array"] == pytest.approx([half, 0.0])
    assert figure["layout"]["xaxis"]["ticktext"] == ["a", "b"]
    percent = figures.dots_figure(study, records, "high_quality_fraction").to_plotly_json()
    assert percent["data"][0]["y"] == [50.0, 50.0, 50.0]   # in %, as the table
    assert figures.metrics_shown(study, records) == ["modes_covered", "high_quality_fraction"]


def test_an_empty_study_draws_its_groups_and_says_why_there_are_no_dots():
    study, _ = synthetic()
    figure = figures.dots_figure(study, [], "modes_covered", empty_note="nothing yet").to_plotly_json()
    assert figure["data"] == [] and figure["layout"]["annotations"][0]["text"] == "nothing yet"
    assert figure["layout"]["xaxis"]["tickvals"] == [0, 1]


# ---------------------------------------------------------------------------- a visitor's small study
def test_a_small_study_is_the_page_settings_with_and_without_entropy_seed_by_seed():
    study = small_study.small_study(tiny(seed=7, entropy="knn", entropy_weight=2.0), 2)
    assert [(t.method, t.seed) for t in study.tasks] == [("entropy weight 2 (knn)", 7), ("entropy weight 0", 7),
                                                         ("entropy weight 2 (knn)", 8), ("entropy weight 0", 8)]
    assert study.tasks[1].options == dict(tiny(seed=7, entropy="knn", entropy_weight=0.0))
    off = small_study.small_study(tiny(entropy="none", entropy_weight=0.0), 1)
    assert off.methods == ("entropy weight 1 (batchnorm)", "entropy weight 0")   # as set was already off
    for seeds in (0, 6, 2.5):
        with pytest.raises(UserInputError, match="seeds"):
            small_study.small_study(tiny(), seeds)
    with pytest.raises(UserInputError, match="Langevin"):
        small_study.small_study(tiny(sampler="langevin"), 1)


def test_a_small_study_runs_each_run_as_the_study_command_does_and_reports_as_it_goes():
    state = PageState(device="cpu")
    study = small_study.start(state, tiny(), 2)
    assert TURNS.in_use >= 1 and state.small_study is study
    seen, versions = 0, []
    while study.state == small_study.RUNNING:
        seen = study.wait_change(seen, timeout=30)
        versions.append((seen, len(study.snapshot())))
    wait_until_ended(study)
    records = study.snapshot()
    assert [r["status"] for r in records] == ["done"] * 4 and study.state == small_study.FINISHED
    assert [n for _, n in versions][:4] == [1, 2, 3, 4]   # each run reported as it finished
    first = study.study.tasks[0]
    again = run_task(engine.task_payload(first))   # the study command's function, here in this process
    same = {k: v for k, v in records[0]["metrics"].items() if k not in VARIABLE}
    assert same == {k: v for k, v in again["metrics"].items() if k not in VARIABLE}
    text = studies.progress(study)
    assert text.startswith("**finished** · 4 of 4 runs done in")
    shown = studies.small_study_view(study)
    assert sum(len(t["y"]) for t in json.loads(shown.figure)["data"] if t["name"] != "mean, 95 % interval") == 4
    assert "| these settings | entropy weight 0 | 2 |" in shown.table
    assert not multiprocessing.active_children() or all(
        p.name != "energylab-study-runs" for p in multiprocessing.active_children())
    state.close()


def test_stop_ends_the_run_under_way_at_once_and_gives_the_place_back():
    state = PageState(device="cpu")
    before = TURNS.in_use
    study = small_study.start(state, tiny(steps=1_000_000), 1)
    with pytest.raises(UserInputError, match="still running"):
        small_study.start(state, tiny(), 1)   # one study at a time per page
    deadline = time.time() + 30
    while not [p for p in multiprocessing.active_children() if p.name == "energylab-study-runs"]:
        assert time.time() < deadline
        time.sleep(0.05)
    time.sleep(2.0)   # its imports done: training
    started = time.monotonic()
    study.close()
    assert time.monotonic() - started < 6 and not study.running and study.state == small_study.STOPPED
    assert TURNS.in_use == before and study.snapshot() == []
    assert "**stopped** · 0 of 2 runs done" in studies.progress(study)
    assert all(p.name != "energylab-study-runs" for p in multiprocessing.active_children())
    state.close()


def test_a_failed_run_shows_its_reason_and_a_dead_process_is_a_failed_run(tmp_path):
    state = PageState(device="cpu")
    missing = resolve(None, {"dataset": "points", "points": str(tmp_path / "nowhere.csv"), "steps": 20})
    study = small_study.start(state, missing, 1)
    wait_until_ended(study)
    assert [r["status"] for r in study.snapshot()] == ["failed", "failed"]
    assert "nowhere.csv" in studies.progress(study) and "⚠️ seed 0" in studies.progress(study)

    study = small_study.start(state, tiny(steps=1_000_000), 1)
    deadline = time.time() + 30
    while not [p for p in multiprocessing.active_children() if p.name == "energylab-study-runs"]:
        assert time.time() < deadline
        time.sleep(0.05)
    time.sleep(0.5)
    for process in multiprocessing.active_children():
        if process.name == "energylab-study-runs":
            process.kill()   # as the kernel does when memory runs out
    seen = study.wait_change(0, timeout=30)
    assert seen >= 1 and study.snapshot()[0]["status"] == "failed"
    assert "ended unexpectedly" in study.snapshot()[0]["reason"] and study.running   # the next run goes on
    state.close()   # a closed page ends its study
    assert not study.running and study.state == small_study.STOPPED


def test_a_small_study_is_refused_when_no_place_is_free(monkeypatch):
    monkeypatch.setattr(TURNS, "places", 0)   # every place taken
    state = PageState(device="cpu")
    with pytest.raises(UserInputError, match="busy"):
        small_study.start(state, tiny(), 1)
    assert state.small_study is None
    state.close()


def test_the_status_says_how_many_runs_are_done_and_about_how_long_is_left():
    study = small_study.SmallStudy(small_study.small_study(tiny(), 3))
    study.started = 100.0
    assert "0 of 6 runs done; starting" in studies.progress(study, now=103.0)
    study.records, study.last_finished = [{"status": "done", "seed": 0, "method": "x"}] * 3, 110.0
    assert studies.progress(study, now=110.0) == "**running** · 3 of 6 runs done, ~10 s left"
    assert studies.progress(study, now=114.0) == "**running** · 3 of 6 runs done, ~6 s left"   # counts down
    study.records, study.last_finished = [{"status": "done", "seed": 0, "method": "x"}] * 2, 400.0
    assert studies.progress(study, now=400.0) == "**running** · 2 of 6 runs done, ~10 min left"
    assert studies.duration(0.2) == "1 s" and studies.duration(89) == "89 s" and studies.duration(150) == "2 min"

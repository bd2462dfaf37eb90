"""Studies: the smoke suite end to end, resume, failures, bad specs, and a real Dask cluster."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from explorer import study as study_command
from explorer.errors import UserInputError
from explorer.measures import metrics
from explorer.studies import engine
from explorer.studies.spec import load_study, parse_seeds, suite_names
from explorer.studies.summary import describe, side_by_side, summarise

# what differs between two runs of the same computation: the clock and the place
VARIABLE = {"train_seconds", "steps_per_second", "seconds", "machine"}


def metric_table(folder: str) -> dict:
    return {r["key"]: {k: v for k, v in r["metrics"].items() if k not in VARIABLE}
            for r in engine.read_records(folder) if r["status"] == "done"}


@pytest.fixture(scope="module")
def smoke_folder(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("smoke"))
    study_command.main(["smoke", "--out", folder, "--quiet"])
    return folder


def test_the_smoke_suite_writes_every_output(smoke_folder):
    records = engine.read_records(smoke_folder)
    study = load_study("smoke")
    assert len(records) == len(study.tasks) == 8 and all(r["status"] == "done" for r in records)
    record = records[0]
    assert {"options", "seed", "metrics", "seconds", "machine"} <= set(record)
    assert {"modes_covered", "high_quality_fraction", "reverse_kl", "nll", "nll_true",
            "nll_gap"} <= set(record["metrics"])
    assert record["machine"]["threads"] == 1 and record["machine"]["cpu_capability"]
    summary = json.load(open(os.path.join(smoke_folder, "summary.json")))
    assert [(g["configuration"], g["method"]) for g in summary["groups"]] == [
        ("ring", "batchnorm"), ("ring", "no-entropy"), ("grid", "batchnorm"), ("grid", "no-entropy")]
    assert all(g["done"] == 2 and g["metrics"]["nll"]["n"] == 2 for g in summary["groups"])
    table = open(os.path.join(smoke_folder, "summary.md")).read()
    assert "| ring | batchnorm | 2 |" in table
    assert os.path.getsize(os.path.join(smoke_folder, "plots.png")) > 10_000
    assert "Plotly" in open(os.path.join(smoke_folder, "plots.html")).read()[:2_000_000]


def test_a_second_run_resumes_and_runs_nothing_again(smoke_folder, capsys):
    before = open(os.path.join(smoke_folder, engine.RUNS_FILE)).read()
    study_command.main(["smoke", "--out", smoke_folder, "--quiet"])
    assert open(os.path.join(smoke_folder, engine.RUNS_FILE)).read() == before
    assert "8 already in" in capsys.readouterr().err


def test_more_seeds_run_only_the_new_ones(smoke_folder, tmp_path):
    folder = str(tmp_path / "more")
    os.makedirs(folder)
    kept = [r for r in engine.read_records(smoke_folder) if r["seed"] == 0]
    with open(os.path.join(folder, engine.RUNS_FILE), "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in kept)
    study_command.main(["smoke", "--out", folder, "--quiet", "--seeds", "0-1", "--workers", "1"])
    records = engine.read_records(folder)
    assert len(records) == 8 and sorted(r["seed"] for r in records[4:]) == [1, 1, 1, 1]
    # the same seed in another process gives the same numbers
    assert metric_table(folder) == metric_table(smoke_folder)


def test_a_failing_run_is_recorded_and_the_rest_go_on(tmp_path):
    spec = tmp_path / "failing.toml"
    spec.write_text('seeds = "0"\nsamples = 100\n[base]\nsteps = 20\nbatch_size = 32\nhidden = 8\n'
                    '[configurations]\nring = { dataset = "ring" }\n'
                    f'missing = {{ dataset = "points", points = "{tmp_path}/nowhere.csv" }}\n')
    folder = str(tmp_path / "out")
    study_command.main([str(spec), "--out", folder, "--quiet", "--workers", "1"])
    records = {r["configuration"]: r for r in engine.read_records(folder)}
    assert records["ring"]["status"] == "done"
    assert records["missing"]["status"] == "failed" and "nowhere.csv" in records["missing"]["reason"]
    assert "nowhere.csv" in open(os.path.join(folder, "summary.md")).read()


def _children(pid: int) -> set[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return {int(c) for c in f.read().split()}


def _alive(pid: int) -> bool:
    """Running, not a zombie left for init to reap."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads a process's children from Linux's /proc")
def test_a_stopped_study_ends_its_workers(tmp_path, repo_root):
    """SIGTERM to `python -m explorer.study` (a kill, a cluster's job ending) ends its worker processes
    too, where they used to train on, orphaned, until their run was done."""
    spec = tmp_path / "long.toml"
    spec.write_text('seeds = "0-3"\n[base]\nsteps = 1000000\n[configurations]\nring = { dataset = "ring" }\n')
    study = subprocess.Popen([sys.executable, "-m", "explorer.study", str(spec), "--out", str(tmp_path / "out"),
                              "--workers", "2", "--quiet"], cwd=repo_root, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    workers: set[int] = set()
    while len(workers) < 2 and time.monotonic() < deadline and study.poll() is None:
        time.sleep(0.5)
        workers = {c for c in _children(study.pid) if "spawn_main" in open(f"/proc/{c}/cmdline").read()}
    assert len(workers) == 2, study.stderr.read() if study.poll() is not None else "no workers started"
    study.send_signal(signal.SIGTERM)
    assert study.wait(timeout=60) != 0
    deadline = time.monotonic() + 10
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(map(_alive, workers))
    assert not engine.read_records(str(tmp_path / "out"))   # no run finished, none recorded


@pytest.mark.parametrize("text, says", [
    ('[base]\nstepz = 10\n', "unknown option 'stepz'"),
    ('[base]\nsteps = -3\n', "--steps must be between"),
    ('[configurations]\nring = { preset = "nope" }\n', "unknown preset 'nope'"),
    ('seeds = "a-b"\n', "seeds must look like"),
    ('colour = "red"\n', "unknown key 'colour'"),
    ('[base\n', "not valid TOML"),
    ('[published]\nring = ["pacgan-moon"]\n', "unknown configuration or table"),
])
def test_a_bad_spec_is_one_line_and_writes_nothing(text, says, tmp_path, capsys, monkeypatch):
    spec = tmp_path / "bad.toml"
    spec.write_text(text)
    folder = tmp_path / "never"
    monkeypatch.setattr("sys.argv", ["explorer.study", str(spec), "--out", str(folder)])
    with pytest.raises(SystemExit) as exit_info:
        study_command.run()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1 and err.startswith("explorer.study: error:")
    assert not folder.exists()


def test_an_unknown_suite_names_the_shipped_ones():
    with pytest.raises(UserInputError, match="smoke"):
        load_study("no-such-suite")


def test_every_shipped_suite_reads_and_checks():
    for name in suite_names():
        assert load_study(name).tasks, name


def test_seeds_read_as_a_user_writes_them():
    assert parse_seeds("0-3") == (0, 1, 2, 3) and parse_seeds("5,1,5") == (5, 1) and parse_seeds([2]) == (2,)
    with pytest.raises(UserInputError):
        parse_seeds(-1)


def test_describe_gives_the_t_interval_of_a_known_sample():
    stat = describe([1.0, 2.0, 3.0, 4.0])
    assert stat["mean"] == 2.5 and stat["n"] == 4
    assert stat["se"] == pytest.approx(np.std([1, 2, 3, 4], ddof=1) / 2)
    assert stat["ci95"][1] - 2.5 == pytest.approx(3.182446 * stat["se"], rel=1e-5)   # t(0.975, 3)
    assert "ci95" not in describe([1.0]) and describe([]) == {"n": 0}


def test_reverse_kl_of_the_mode_histogram_against_known_answers():
    centers = np.array([[0.0, 0.0], [10.0, 0.0]])
    even = np.repeat(centers, 50, axis=0)
    assert metrics.mode_histogram_reverse_kl(even, centers, 0.1) == pytest.approx(0.0)
    one_mode = np.repeat(centers[:1], 100, axis=0)
    assert metrics.mode_histogram_reverse_kl(one_mode, centers, 0.1) == pytest.approx(np.log(2))
    skewed = np.concatenate([np.repeat(centers[:1], 90, axis=0), np.repeat(centers[1:], 10, axis=0)])
    assert metrics.mode_histogram_reverse_kl(skewed, centers, 0.1, np.array([0.9, 0.1])) == pytest.approx(0.0)
    assert metrics.mode_histogram_reverse_kl(np.full((5, 2), 5.0), centers, 0.1) is None


def test_side_by_side_puts_our_seeds_above_each_cited_row():
    study = load_study("scoreboard", seeds="0-1")
    records = [{"key": t.key, "status": "done", "seed": t.seed,
                "metrics": {"modes_covered": 7.0 + t.seed, "high_quality_fraction": 0.5, "reverse_kl": 0.25}}
               for t in study.tasks if t.method == "batchnorm"]
    lines = side_by_side(study, summarise(study, records)).splitlines()
    # ring 7 and 8 modes: mean 7.5, standard error 0.5; the grid's cells the same; every row 2 + 6 cells
    assert lines[2].startswith("| default | EnergyLab, 2 seeds | – |")   # a method with no runs yet
    assert lines[3] == ("| batchnorm | EnergyLab, 2 seeds | 7.5 ± 0.5 | 50.0 ± 0.0 | 0.250 ± 0.000 "
                        "| 7.5 ± 0.5 | 50.0 ± 0.0 | 0.250 ± 0.000 |")
    assert lines[4].startswith("| knn | EnergyLab, 2 seeds | – |")
    assert "| PacGAN4 | PacGAN (Lin et al. 2018) | 7.8 | 95.9 | 0.07 | 24.8 | 93.6 | 0.04 |" in lines
    assert "| VEEGAN | VEEGAN (Srivastava et al. 2017) | 8 | 52.9 | – | 24.6 | 40 | – |" in lines
    assert all(line.count("|") == 9 for line in lines)
    one_seed = summarise(study, records[:1])   # a configuration still running says how far it got
    assert "7.0 (1 of 2)" in side_by_side(study, one_seed)


def test_the_readme_scoreboard_is_the_shipped_study():
    from explorer.studies import shipped
    shown = shipped.load("scoreboard")
    readme = open(os.path.join(os.path.dirname(__file__), "..", "README.md"), encoding="utf-8").read()
    block = readme.split("<!-- scoreboard -->\n", 1)[1].split("<!-- /scoreboard -->", 1)[0]
    assert block == side_by_side(shown.study, shown.summary)


def test_the_same_study_on_a_real_dask_cluster_agrees_run_for_run(smoke_folder, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        folder = str(tmp_path / "cluster")
        study_command.main(["smoke", "--out", folder, "--quiet", "--cluster", cluster.scheduler_address])
    assert metric_table(folder) == metric_table(smoke_folder) and len(metric_table(folder)) == 8


def test_cluster_without_a_scheduler_is_a_clear_error(tmp_path):
    pytest.importorskip("distributed")
    with pytest.raises(UserInputError, match="cannot reach a Dask scheduler"):
        engine.connect("tcp://127.0.0.1:1")

"""explorer/training/history.py: the compact metric history reads like the dict of rows it replaced."""
import numpy as np

from explorer.training.history import INITIAL_CAPACITY, MetricHistory


def test_records_read_back_as_rows_and_arrays_across_growth():
    history = MetricHistory()
    n = 3 * INITIAL_CAPACITY + 5   # past two doublings
    for step in range(n):
        history.record(10 * step, {"a": step / 2, "b": -step} if step % 2 == 0 else {"a": step / 2})
    assert list(history) == ["a", "b"] and len(history) == 2
    assert history["a"] == [(10 * s, s / 2) for s in range(n)]
    assert history["b"] == [(10 * s, float(-s)) for s in range(0, n, 2)]
    steps, values = history.arrays()["a"]
    assert steps.dtype == np.int64 and values.dtype == np.float64
    assert np.array_equal(steps, 10 * np.arange(n)) and np.array_equal(values, np.arange(n) / 2)
    assert history.points() == n + len(range(0, n, 2))


def test_arrays_are_copies():
    history = MetricHistory({"a": [(1, 1.0)]})
    steps, values = history.arrays()["a"]
    values[0] = 99.0
    assert history["a"] == [(1, 1.0)]


def test_truncate_keeps_rows_up_to_the_step_and_recording_goes_on():
    history = MetricHistory({"a": [(s, float(s)) for s in range(0, 100, 10)], "b": [(50, 5.0), (90, 9.0)]})
    history.truncate(40)
    assert history["a"] == [(s, float(s)) for s in range(0, 41, 10)]
    assert history["b"] == []
    history.record(50, {"a": -1.0})
    assert history["a"][-1] == (50, -1.0)


def test_thinned_keeps_the_ends_and_at_most_max_points():
    history = MetricHistory({"a": [(s, float(s)) for s in range(1000)], "b": [(3, 0.5)]})
    record = history.thinned(50)
    assert len(record["a"]) == 50 and record["a"][0] == [0, 0.0] and record["a"][-1] == [999, 999.0]
    assert record["b"] == [[3, 0.5]]


def test_compares_equal_to_the_same_rows_and_as_a_dict():
    rows = {"a": [(1, 0.5), (2, 0.25)]}
    assert MetricHistory(rows) == MetricHistory(rows)
    assert MetricHistory(rows) == rows
    assert MetricHistory(rows) != MetricHistory({"a": [(1, 0.5)]})
    assert dict(MetricHistory(rows).items()) == rows

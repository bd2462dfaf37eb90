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


def test_news_since_a_mark_brings_a_copy_up_to_date_and_a_truncation_sends_the_whole():
    source = MetricHistory({"a": [(s, float(s)) for s in range(0, 50, 10)]})
    copy = MetricHistory(dict(source.items()))
    mark = source.mark()
    for s in range(50, 50 + 10 * INITIAL_CAPACITY, 10):   # past a doubling, and a new metric
        source.record(s, {"a": s / 3, "b": -s} if s % 20 == 0 else {"a": s / 3})
    kind, rows = news = source.news_since(mark)
    assert kind == "rows" and len(rows["a"][0]) == INITIAL_CAPACITY and len(rows["b"][0]) == INITIAL_CAPACITY // 2
    assert copy.with_news(news) is copy and copy == source
    mark = source.mark()
    assert source.news_since(mark) == ("rows", {}) and copy.with_news(source.news_since(mark)) == source
    source.truncate(100)   # rows the copy holds are gone: it gets the whole history
    source.record(110, {"a": 7.0})
    kind, whole = news = source.news_since(mark)
    assert kind == "whole" and copy.with_news(news) == source == MetricHistory(
        {"a": [*((s, float(s)) for s in range(0, 50, 10)), *((s, s / 3) for s in range(50, 101, 10)), (110, 7.0)],
         "b": [(s, float(-s)) for s in range(60, 101, 20)]})

"""The Studies tab in a real browser (Playwright driving Debian's chromium, as tests/test_browser.py).

Opening the tab draws the first shipped study's dots and table at once (they are in the page
itself); a small study of tiny settings then shows its dots one run at a time until it is done,
and Stop ends a long one.
"""
import time

from conftest import wait_for

from explorer.page.studies import default_suite
from explorer.studies import shipped

# each seed's dots in a figure, counted from the chart Plotly drew (the means left out)
DOTS_JS = """(id) => { const plot = document.querySelector(`#${id} .js-plotly-plot`);
  return plot && plot.data ? plot.data.filter((t) => t.name !== 'mean, 95 % interval')
                                      .reduce((n, t) => n + t.y.length, 0) : -1; }"""


def dots(page, figure: str) -> int:
    return page.evaluate(DOTS_JS, figure)


def set_control(page, label: str, value: str) -> None:
    control = page.get_by_label(label, exact=True)
    control.fill(value)
    control.press("Tab")


def tiny_settings(page, steps: str = "20") -> None:
    set_control(page, "steps", steps)
    page.get_by_role("button", name="networks and seed").click()
    set_control(page, "batch size", "32")
    set_control(page, "hidden", "8")


def test_the_tab_draws_the_shipped_results_at_once(page):
    started = time.perf_counter()
    page.get_by_role("tab", name="Studies").click()
    page.wait_for_selector("#study-dots .js-plotly-plot .scatterlayer .point")
    page.wait_for_selector("#study-table table")
    took = time.perf_counter() - started
    print(f"\nthe shipped study drawn {took:.2f} s after the tab was clicked")
    assert took < 5.0   # generous on a loaded machine: the target (well under a second) is for benchmarks
    shown = shipped.load(default_suite())   # the first shipped study the tab offers
    assert dots(page, "study-dots") == shown.done > 0
    assert shown.study.configurations[0] in page.inner_text("#study-table")
    assert f"python -m explorer.study {shown.name}" in page.inner_text("#study-about")
    page.get_by_label("metric", exact=True).first.click()
    page.get_by_role("option", name="NLL", exact=True).click()
    wait_for(lambda: "NLL" in (page.locator("#study-dots .gtitle").first.text_content() or ""), what="the NLL dots")


def test_a_small_study_shows_each_runs_dot_as_it_finishes(page):
    tiny_settings(page)
    page.get_by_role("tab", name="Studies").click()
    page.click("#study-start")
    seen = []
    deadline = time.time() + 120
    while "finished" not in page.inner_text("#study-status"):
        assert time.time() < deadline, "the small study did not finish"
        count = dots(page, "study-own-dots")
        if count >= 0 and (not seen or count != seen[-1]):
            seen.append(count)
        time.sleep(0.05)
    wait_for(lambda: dots(page, "study-own-dots") == 6, what="the last dot")
    seen.append(6)
    assert seen == sorted(seen) and len(set(seen)) >= 4, seen   # the dots came run by run, not all at the end
    assert "6 of 6 runs done" in page.inner_text("#study-status")
    assert "entropy weight 0" in page.inner_text("#study-own-table")
    page.locator("#study-own-metric input").click()
    page.get_by_role("option", name="NLL", exact=True).click()
    wait_for(lambda: "NLL" in (page.locator("#study-own-dots .gtitle").first.text_content() or ""),
             what="the small study's NLL dots")
    assert dots(page, "study-own-dots") == 6 and "⚠️" not in page.inner_text("#study-status")


def test_stop_ends_a_small_study(page):
    tiny_settings(page, steps="1000000")
    page.get_by_role("tab", name="Studies").click()
    page.click("#study-start")
    wait_for(lambda: "running" in page.inner_text("#study-status"), what="the study to start")
    page.click("#study-stop")
    wait_for(lambda: "stopped" in page.inner_text("#study-status"), timeout=15, what="Stop")

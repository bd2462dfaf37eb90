"""The Densities tab in a real browser (Playwright driving Debian's chromium, as tests/test_browser.py).

Opening the tab draws p_data, p_E and p_G as three heatmaps, the KL table and the entropy chart;
while training, the open tab redraws itself as the step moves.
"""
import re

from conftest import wait_for


def densities_step(page) -> int:
    """The step in the densities figure's title; -1 while there is none (or plotly redraws it)."""
    text = page.evaluate("() => document.querySelector('#densities .gtitle')?.textContent || ''")
    match = re.search(r"step (\d+)", text)
    return int(match.group(1)) if match else -1


def test_opening_the_tab_draws_three_heatmaps_the_table_and_the_entropy_chart(page):
    page.get_by_role("tab", name="Densities").click()
    page.wait_for_selector("#densities .js-plotly-plot .hm")
    wait_for(lambda: page.locator("#densities .hm").count() == 3, what="three heatmaps")
    titles = page.locator("#densities .annotation-text").all_text_contents()
    assert titles[:3] == ["p_data (exact)", "p_E = exp(-E)/Z", "p_G (KDE estimate)"]
    assert "KL(p_data‖p_G)" in page.locator("#densities .gtitle").first.text_content()
    assert "KL(p_data ‖ p_G)" in page.inner_text("#densities-table")
    page.wait_for_selector("#entropies .main-svg .scatterlayer .point")   # the pretrained pair's current point
    # the tab's timer may draw the charts first (it leaves the status alone); the tab's own draw follows
    wait_for(lambda: "densities in" in page.inner_text("#status"), timeout=30, what="the status's timing")
    page.locator("#densities-scale").get_by_label("density", exact=True).check()
    wait_for(lambda: page.locator("#densities .cbtitle").first.text_content() == "p(x)", what="the density scale")


def test_the_open_tab_follows_training(page):
    steps = page.get_by_label("steps", exact=True)
    steps.fill("100000")   # Stop, not the end of the run, ends it
    steps.press("Tab")
    page.click("#train")
    wait_for(lambda: "training" in page.inner_text("#status"), what="training to start")
    page.get_by_role("tab", name="Densities").click()
    wait_for(lambda: densities_step(page) >= 0, what="the first drawing")
    first = densities_step(page)
    wait_for(lambda: densities_step(page) > first, timeout=30, what="a redraw while training")
    page.click("#stop")
    wait_for(lambda: "stopped" in page.inner_text("#status"), what="Stop")

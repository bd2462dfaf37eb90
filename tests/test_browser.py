"""The page in a real browser: Playwright driving Debian's chromium (apt-get install chromium).

.ci/run installs chromium; set ENERGYLAB_CHROMIUM to use another binary.
"""
import re
import time

import pytest
from conftest import wait_for, wait_until_opened


def step_of(page) -> int:
    match = re.search(r"step ([\d,]+) /", page.inner_text("#status"))
    return int(match.group(1).replace(",", "")) if match else -1


def landscape_title(page) -> str:
    """The landscape's title, which names the frame's step ('' while plotly redraws it)."""
    title = page.locator("#landscape .gtitle")
    return title.first.text_content(timeout=5_000) if title.count() else ""


def paused_where(page) -> int:
    """The step a paused run stays at (its last frame may still be on its way when Pause shows)."""
    wait_for(lambda: "paused" in page.inner_text("#status"), what="the run to pause")
    time.sleep(1.0)
    return step_of(page)


def test_page_shows_a_pretrained_landscape_then_trains_live_pauses_and_stops(page):
    page.wait_for_selector("#landscape .js-plotly-plot .hm, #landscape .js-plotly-plot .contour", timeout=30_000)
    assert "pretrained: ring" in page.inner_text("#status")
    before = landscape_title(page)
    steps = page.get_by_label("steps", exact=True)
    steps.fill("100000")   # long enough that Stop, not the end of the run, ends it
    steps.press("Tab")

    page.click("#train")
    wait_for(lambda: "training" in page.inner_text("#status"), what="training to start")
    first = step_of(page)
    wait_for(lambda: step_of(page) > first + 50, what="the step counter to move")
    wait_for(lambda: landscape_title(page) not in ("", before), what="the figure to change")

    # Pause then Train at once: the page holds the click on Train until Train's stream has ended
    # (Gradio's default dropped it and the run stayed paused: explorer/page/train_clicks.py)
    page.evaluate("() => { for (const id of ['pause', 'train']) document.getElementById(id).click(); }")   # one instant
    moving_from = step_of(page)
    wait_for(lambda: "training" in page.inner_text("#status") and step_of(page) > moving_from + 30,
             what="training to go on after Pause then Train")
    # ... but a second click on Train while training does not restart the run Pause then stops
    page.click("#train")
    time.sleep(0.5)
    page.click("#pause")
    paused_at = paused_where(page)
    time.sleep(2.0)
    assert "paused" in page.inner_text("#status") and step_of(page) == paused_at
    page.click("#train")
    wait_for(lambda: step_of(page) > paused_at + 30, what="Train to go on after the pause")

    page.click("#stop")
    wait_for(lambda: "stopped" in page.inner_text("#status"), what="Stop to take effect")
    stopped_at = step_of(page)
    time.sleep(1.0)
    assert step_of(page) == stopped_at
    wait_for(lambda: f"step {stopped_at} " in landscape_title(page), what="the last frame")


def message_beside(page, group: str) -> str:
    """The message line at the head of a group of controls ('' when hidden)."""
    # read in one go: the line is re-rendered as checks answer, and a locator found a moment ago can
    # be gone when its text is read (a 60 s wait for an element that is meant to be absent)
    return page.evaluate("g => { const e = document.querySelector(`#${g}-group #${g}-message`);"
                         " return e && e.offsetParent !== null ? e.innerText : ''; }", group)


def test_bad_input_shows_a_message_beside_its_field_which_goes_when_fixed(page):
    page.wait_for_selector("#landscape .js-plotly-plot .hm, #landscape .js-plotly-plot .contour", timeout=30_000)
    std = page.get_by_label("std")
    std.fill("0")
    std.press("Tab")
    wait_for(lambda: "std must be between" in message_beside(page, "data"), what="the message beside std")
    page.click("#reset")
    wait_for(lambda: "std must be between" in page.inner_text("#status") and "(see data)" in page.inner_text("#status"),
             what="the std warning pointing to its group")
    std.fill("0.05")
    std.press("Tab")   # no button pressed: the message and the warning go as the field is valid again
    wait_for(lambda: message_beside(page, "data") == "", what="the message to go")
    wait_for(lambda: "⚠️" not in page.inner_text("#status"), what="the warning to go")
    page.click("#reset")
    wait_for(lambda: "new run at step 0" in page.inner_text("#status"), what="a new run after the fix")


def test_a_folded_group_opens_on_train_to_show_its_problem(page):
    page.wait_for_selector("#landscape .main-svg")
    advanced = page.get_by_role("button", name="networks and seed")
    advanced.click()
    batch = page.get_by_label("batch size")
    batch.fill("1")
    batch.press("Tab")
    wait_for(lambda: "batch size must be between" in message_beside(page, "advanced"), what="the message")
    advanced.click()   # folded again: the field and its message out of sight
    wait_for(lambda: not batch.is_visible(), what="the group to fold")
    page.click("#train")
    wait_for(lambda: batch.is_visible() and "batch size must be" in message_beside(page, "advanced"),
             what="the group to open on its problem")
    assert "(see advanced)" in page.inner_text("#status")
    batch.fill("64")
    batch.press("Tab")
    wait_for(lambda: message_beside(page, "advanced") == "" and "⚠️" not in page.inner_text("#status"),
             what="the message and warning to go")


def test_bad_files_show_a_message_and_the_page_keeps_working(page, tmp_path):
    page.wait_for_selector("#landscape .main-svg")
    text = tmp_path / "points.csv"
    text.write_text("x,y\n1,2\nhello,3\n")
    page.get_by_label("dataset").click()
    page.get_by_role("option", name="points", exact=True).click()
    page.locator("#points-upload input[type=file]").set_input_files(str(text))
    wait_for(lambda: "not a number" in page.inner_text("#status"), what="the points-file message")
    page.get_by_label("pretrained pair").click()
    page.get_by_role("option", name="lesson —").first.click()
    wait_for(lambda: "pretrained: lesson" in page.inner_text("#status"), what="the session to keep working")


def pair_zip(path, pair: str = "ring"):
    """A shipped pair's files as an upload would bring them."""
    import zipfile
    from conftest import ROOT
    with zipfile.ZipFile(path, "w") as archive:
        for name in ("config.json", "model.safetensors"):
            archive.write(f"{ROOT}/assets/pairs/{pair}/{name}", name)
    return str(path)


def test_a_pair_upload_beside_the_menu_says_what_it_loaded_and_forgets_a_refused_file(page, tmp_path):
    page.wait_for_selector("#landscape .main-svg")
    menu, upload = page.get_by_label("pretrained pair").bounding_box(), page.locator("#pair-upload").bounding_box()
    assert 0 < upload["y"] - menu["y"] < 300 and upload["y"] + upload["height"] < 1000   # in the first screen
    junk = tmp_path / "broken.zip"
    junk.write_bytes(b"PK\x03\x04 not a zip")
    page.locator("#pair-upload input[type=file]").set_input_files(str(junk))
    wait_for(lambda: "not a readable zip" in page.inner_text("#pair-message"), what="the message beside the upload")
    assert "not a readable zip" in page.inner_text("#status")
    wait_for(lambda: "broken" not in page.inner_text("#pair-upload"), what="the refused file to leave the box")
    page.locator("#pair-upload input[type=file]").set_input_files(pair_zip(tmp_path / "my-ring.zip"))
    wait_for(lambda: "loaded my-ring.zip" in page.inner_text("#pair-message"), what="the good pair's message")
    assert "pair loaded" in page.inner_text("#status") and "uploaded: my-ring.zip" in page.inner_text("#status")
    assert "⚠️" not in page.inner_text("#status")


def test_each_view_tab_draws_its_figure(page):
    page.wait_for_selector("#landscape .main-svg")
    for tab, figure in (("Gallery", "#gallery .main-svg"), ("Interpolation", "#interpolation .main-svg")):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_selector(figure)
    assert page.locator("#interpolation .slider-container").count() == 1   # the scrubbing slider
    page.get_by_role("tab", name="Embedding (UMAP)").click()
    page.click("#embed")
    page.wait_for_selector("#embedding .main-svg")
    wait_for(lambda: "UMAP in" in page.inner_text("#status"), what="the embedding")


# records the title of every landscape Plotly draws, in order
DRAWN_TITLES_JS = """
window.drawnTitles = [];
let plotly;
Object.defineProperty(window, 'Plotly', {configurable: true, get() { return plotly; }, set(value) {
  plotly = value;
  const react = value.react;
  value.react = function (target, figure, ...rest) {
    if (target.closest('#landscape')) window.drawnTitles.push((figure.layout.title || {}).text || '');
    return react.call(this, target, figure, ...rest);
  };
}});
"""


@pytest.mark.parametrize("query, pair_step", [("", "step 3000 "), ("?pair=grid-paper", "step 30000 ")])
def test_a_new_page_draws_the_first_view_only_when_no_link_names_its_state(browser, app_url, query, pair_step):
    """A plain address draws the default pair's first view (in the page) and then the load event's
    full landscape (contours); a link never shows the default pair, only its own."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    page.add_init_script(DRAWN_TITLES_JS)
    page.goto(app_url + query)
    wait_until_opened(page)
    page.wait_for_selector("#landscape .js-plotly-plot .contour")
    titles = page.evaluate("window.drawnTitles")
    page.close()
    assert titles and pair_step in titles[-1]
    if query:
        assert all("step 3000 " not in title for title in titles), titles   # never the default ring
    else:
        assert len(set(titles)) == 1, titles   # the first view (unless the load event came first), then the full one

"""What the figures show in a real browser (Playwright driving Debian's chromium, as tests/test_browser.py):
colour bars that survive the page rewriting its address, and digits' views a student can read."""
import io

import numpy as np
from conftest import wait_for
from PIL import Image

# each colour bar of a view: 'ok' when its gradient reference names this document and an existing
# gradient, else what is wrong (a url() to another address is a blank bar to the browser)
COLOUR_BARS_JS = """(view) => [...document.querySelectorAll('#' + view + ' .cbfill')].map((bar) => {
  const match = (bar.style.fill || '').match(/url\\(["']?(.*)#([^"')]+)["']?\\)/);
  if (!match) return 'no gradient: ' + bar.style.fill;
  const [, address, id] = match;
  if (address && new URL(address, document.baseURI).href !== location.href.split('#')[0]) {
    return 'another address: ' + address + ' (the page is at ' + location.href + ')';
  }
  return document.getElementById(id) ? 'ok' : 'no gradient element ' + id;
})"""
CHART_WIDTH_JS = "(view) => document.querySelector('#' + view + ' .js-plotly-plot')?._fullLayout?.width"


def colour_bar_is_painted(page, view: str) -> bool:
    """The colour bar as the user sees it: a gradient spans many colours; a blank bar is white."""
    shot = Image.open(io.BytesIO(page.locator(f"#{view} .cbfill").first.screenshot())).convert("RGB")
    pixels = np.asarray(shot).reshape(-1, 3)
    return len(np.unique(pixels[pixels.sum(axis=1) < 3 * 250], axis=0)) > 10


def resize_and_check(page, view: str, width: int) -> None:
    before = page.evaluate(CHART_WIDTH_JS, view)
    page.set_viewport_size({"width": width, "height": 1000})
    wait_for(lambda: page.evaluate(CHART_WIDTH_JS, view) != before, what=f"the {view} chart to redraw")
    assert page.evaluate(COLOUR_BARS_JS, view) == ["ok"]
    assert colour_bar_is_painted(page, view)


def test_colour_bars_survive_the_address_rewrite_and_a_resize(page):
    """The page draws its first view, then rewrites its address (link.js). Charts drawn before that
    kept a gradient url() to the old address: blank colour bars on the next redraw."""
    page.wait_for_selector("#landscape .cbfill")
    wait_for(lambda: "dataset=ring" in page.evaluate("location.href"), what="the page to rewrite its address")
    resize_and_check(page, "landscape", 1150)
    page.get_by_role("tab", name="Gallery").click()   # the open tab travels in the address too
    page.wait_for_selector("#gallery .cbfill")
    wait_for(lambda: "tab=gallery" in page.evaluate("location.href"), what="the address to name the tab")
    resize_and_check(page, "gallery", 1400)


def boxes_overlap(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and \
        a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def test_the_histograms_legend_stands_clear_of_its_title_and_the_curves_name_their_lines(page):
    page.wait_for_selector("#histogram .legend")
    title, legend = (page.locator(f"#histogram {part}").first.bounding_box() for part in (".gtitle", ".legend"))
    assert not boxes_overlap(title, legend), (title, legend)
    headings = page.locator("#curves .annotation-text").all_text_contents()
    for lines in (("energy loss", "generator loss"), ("real data", "generated")):
        assert any(all(f"━ {line}" in heading for line in lines) for heading in headings), headings
    assert page.locator("#landscape-view-controls").is_visible()   # 2-D points keep them


def image_pixels(page, view: str, columns: int, tile: int, index: int = 0) -> float:
    """On screen, the side of one 8 x 8 image of a montage heatmap (`columns` tiles of `tile` units)."""
    box = page.locator(f"#{view} .hm image").nth(index).bounding_box()
    return box["width"] / (columns * tile - (tile - 8)) * 8


def test_digits_are_large_and_their_tabs_show_only_what_applies(open_page):
    page = open_page("pair=digits")
    page.wait_for_selector("#landscape .hm image")
    assert image_pixels(page, "landscape", columns=5, tile=9) >= 48
    wait_for(lambda: not page.locator("#landscape-view-controls").is_visible(), what="the 2-D controls to go")
    page.get_by_role("tab", name="Gallery").click()
    page.wait_for_selector("#gallery .hm image")
    assert min(image_pixels(page, "gallery", columns=4, tile=12, index=i) for i in (0, 1)) >= 48
    page.get_by_role("tab", name="Densities").click()
    message = page.get_by_text("This view is for 2-D data")
    wait_for(lambda: message.filter(visible=True).count() == 1, what="the message, once")
    for hidden in ("#densities-scale", "#densities-refresh", "#densities", "#entropies"):
        assert not page.locator(hidden).is_visible(), hidden

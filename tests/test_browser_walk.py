"""The first page walked as a student walks it, in a real browser (Playwright driving Debian's
chromium, as tests/test_browser.py): the landing view, the lesson's seven steps, the Compare tab,
the gallery and the Densities tab, then the digits pairs' gallery and UMAP. At each stop it checks
what a student must see (the step's title, its pair in the status line, a chart drawn with data, no
error) and saves a screenshot at a fixed viewport size.

The screenshots go to the folder named by ENERGYLAB_SCREENSHOTS (else pytest's tmp_path), laid out
as assets/ lays out the README's: `screenshot.png` and `screenshots/*.png` under the names the
README and docs/ show, and every stop of the walk under `walk/`. `bash assets/screenshots.sh` runs
this file and copies the README's images into assets/ (assets/README.md).
"""
import os
import re
import time
from pathlib import Path

import pytest
from conftest import ROOT, wait_for

from explorer.page import lesson, setup

VIEWPORT = {"width": 1400, "height": 1000}
COMPARE_MEASUREMENTS = 4   # coverage points per side before Stop: step 1,000 of 3,000 (measured every 250)
COMPARE_SECONDS = 240      # ~15 s on an idle 2-core machine; generous for a loaded one
UMAP_SECONDS = 180         # the first UMAP of a process compiles numba's code: ~30 s on an idle 2-core machine
DIGITS_PAIRS = ("digits-lesson-no-entropy", "digits-lesson")

# the number of points (or grid cells) of each trace of a view's Plotly chart; [] before it is drawn
TRACE_SIZES_JS = """(view) => {
  const chart = document.querySelector('#' + view + ' .js-plotly-plot');
  return chart && chart._fullData ? chart._fullData.map((t) => t._length || (t.z ? t.z.length : 0)) : [];
}"""
ERROR_WORDS = ("something went wrong", "Traceback")
BEGAN = time.time()   # a screenshot older than this module is not this run's


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """The screenshots' folder."""
    folder = Path(os.environ.get("ENERGYLAB_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    for sub in ("screenshots", "walk"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return folder


def status(page) -> str:
    return page.inner_text("#status")


def trace_sizes(page, view: str) -> list:
    return page.evaluate(TRACE_SIZES_JS, view)


def wait_for_chart(page, view: str, traces: int = 1, timeout: float = 60.0) -> None:
    """`view`'s chart is drawn with data: at least `traces` traces that hold points or cells."""
    wait_for(lambda: sum(size > 0 for size in trace_sizes(page, view)) >= traces, timeout=timeout,
             what=f"the {view} chart's data")


def title_of(page, view: str) -> str:
    return page.evaluate(f"() => document.querySelector('#{view} .gtitle')?.textContent || ''")


def assert_no_error(page) -> None:
    """No warning in the status line, no error toast, no error text anywhere on the page."""
    assert "⚠️" not in status(page), status(page)
    assert page.locator(".toast-body.error").count() == 0, page.locator(".toast-body").all_inner_texts()
    text = page.inner_text("body")
    for words in ERROR_WORDS:
        assert words not in text, words


def shoot(page, path: Path, scroll_to: str | None = None) -> None:
    """The viewport as a student sees it, `scroll_to` at its top (the page's top without one);
    the mouse off the charts, so that no tooltip or toolbar shows."""
    page.mouse.move(0, 0)
    if scroll_to:
        page.evaluate(f"() => document.querySelector('{scroll_to}').scrollIntoView()")
    else:
        page.evaluate("() => window.scrollTo(0, 0)")
    page.wait_for_timeout(300)   # Plotly's hover and the scroll settle
    page.screenshot(path=str(path))


def shoot_element(page, selector: str, path: Path) -> None:
    page.mouse.move(0, 0)
    page.wait_for_timeout(300)
    page.locator(selector).screenshot(path=str(path))


def pair_shown(page, pair: str) -> bool:
    return re.search(rf"pretrained: {re.escape(pair)}( ·|$)", status(page), re.MULTILINE) is not None


def see_lesson_step(page, number: int) -> None:
    """Lesson step `number` as the page shows it: its title, its pair (or a new run at step 0),
    the landscape in its view with data, its text, and no error."""
    step = lesson.step(number)
    indicator = page.locator("#lesson-indicator")
    wait_for(lambda: f"Step {number} of {len(lesson.STEPS)}" in indicator.inner_text(), what=f"step {number}")
    assert step.title in indicator.inner_text()
    if step.setup.pair:
        wait_for(lambda: pair_shown(page, step.setup.pair), what=f"step {number}'s pair {step.setup.pair}")
    else:   # a preset's new run, waiting at step 0
        wait_for(lambda: "step 0 /" in status(page), what=f"step {number}'s new run")
    # the landscape in the step's view: 'energy E(x) ...', 'density ...', 'log density ...'
    wait_for(lambda: title_of(page, "landscape").startswith(step.setup.view), what=f"step {number}'s view")
    wait_for_chart(page, "landscape", traces=2)
    assert page.locator("#lesson-text").inner_text().strip(), f"step {number} has no text"
    assert_no_error(page)


def both_runs_measured(page) -> bool:
    """The coverage chart holds COMPARE_MEASUREMENTS points of each run (its dashed 'all modes'
    line has two points: the two longest traces are the runs)."""
    sizes = sorted(trace_sizes(page, "compare-coverage"))
    return len(sizes) >= 2 and sizes[-2] >= COMPARE_MEASUREMENTS


def test_a_student_walks_the_first_page(open_page, shots):
    page = open_page()
    page.set_viewport_size(VIEWPORT)
    walk = shots / "walk"

    # landing: the default pair's full landscape (contours) with its data and samples
    page.wait_for_selector("#landscape .js-plotly-plot .contour")
    wait_for(lambda: pair_shown(page, setup.DEFAULT_PAIR), what="the default pair in the status")
    wait_for_chart(page, "landscape", traces=3)   # the energy, the real data, the samples
    assert "Lesson" in page.inner_text("#lesson-indicator")
    assert_no_error(page)
    shoot(page, shots / "screenshot.png")
    shoot(page, walk / "01-landing.png")

    # the lesson: each Next sets its step up (pair or new run, view, layers) and says what to look at
    for number in range(1, len(lesson.STEPS) + 1):
        page.click("#lesson-next")
        see_lesson_step(page, number)
        shoot(page, walk / f"{number + 1:02d}-lesson-step-{number}.png", scroll_to="#lesson")

    # Compare: both runs train; once the chart shows a few coverage points per side, stop them
    page.get_by_role("tab", name="Compare").click()
    page.click("#compare-train")
    wait_for(lambda: "training" in page.inner_text("#compare-status"), what="the comparison to start")
    wait_for(lambda: both_runs_measured(page), timeout=COMPARE_SECONDS,
             what=f"{COMPARE_MEASUREMENTS} coverage points per run")
    wait_for_chart(page, "compare-left", traces=2)
    wait_for_chart(page, "compare-right", traces=2)
    assert "⚠️" not in page.inner_text("#compare-status")
    assert_no_error(page)
    shoot_element(page, "#compare-tab", shots / "screenshots" / "compare.png")
    shoot(page, walk / "09-compare.png", scroll_to="#compare-status")
    page.click("#compare-stop")
    wait_for(lambda: "stopped" in page.inner_text("#compare-status"), what="the comparison to stop")

    # back to the trained default pair (the lesson's last step left a new run at step 0), as a student
    # picks it in the pair menu; then its gallery
    page.get_by_label("pretrained pair").click()
    page.get_by_role("option", name=re.compile(rf"^{re.escape(setup.DEFAULT_PAIR)} —")).click()
    wait_for(lambda: pair_shown(page, setup.DEFAULT_PAIR), what="the default pair again")
    page.get_by_role("tab", name="Gallery").click()
    wait_for(lambda: "gallery in" in status(page), what="the gallery's status")
    wait_for_chart(page, "gallery")
    assert_no_error(page)
    shoot(page, walk / "10-gallery.png", scroll_to="#status")

    # the Densities tab: p_data, p_E and p_G, the KL table and the entropy chart
    page.get_by_role("tab", name="Densities").click()
    wait_for(lambda: page.locator("#densities .hm").count() == 3, timeout=120, what="three heatmaps")
    wait_for(lambda: "densities in" in status(page), timeout=120, what="the densities' status")
    wait_for_chart(page, "densities", traces=3)
    wait_for_chart(page, "entropies")
    assert "KL" in page.inner_text("#densities-table")
    assert_no_error(page)
    shoot(page, walk / "11-densities.png", scroll_to="#status")


@pytest.mark.parametrize("pair", DIGITS_PAIRS)
def test_a_digits_link_shows_its_gallery_and_umap(open_page, shots, pair):
    """The README's digits shots: a link to each pair, its gallery and its UMAP embedding."""
    page = open_page(f"pair={pair}")
    page.set_viewport_size(VIEWPORT)
    wait_for(lambda: pair_shown(page, pair), what=f"the {pair} pair")
    page.get_by_role("tab", name="Gallery").click()
    page.wait_for_selector("#gallery .hm image")   # the samples and the real digits as images
    wait_for(lambda: "gallery in" in status(page), what="the gallery's status")
    wait_for_chart(page, "gallery", traces=2)
    assert_no_error(page)
    shoot_element(page, "#gallery", shots / "screenshots" / f"{pair}-gallery.png")
    shoot(page, shots / "walk" / f"{pair}-gallery.png", scroll_to="#status")

    page.get_by_role("tab", name="Embedding (UMAP)").click()
    page.click("#embed")
    wait_for(lambda: "UMAP in" in status(page), timeout=UMAP_SECONDS, what="the UMAP embedding")
    wait_for_chart(page, "embedding", traces=2)   # real digits and generated ones
    assert_no_error(page)
    shoot_element(page, "#embedding", shots / "screenshots" / f"{pair}-umap.png")
    shoot(page, shots / "walk" / f"{pair}-umap.png", scroll_to="#status")


def documented_screenshots() -> set[str]:
    """The app's screenshots the README and docs/ show, as paths under assets/."""
    pages = [Path(ROOT, "README.md"), *sorted(Path(ROOT, "docs").glob("*.md"))]
    found = set()
    for doc in pages:
        found |= set(re.findall(r"\]\((?:\.\./)?assets/(screenshot\.png|screenshots/[\w.-]+\.png)\)", doc.read_text()))
    return found


def test_the_walk_wrote_every_screenshot_the_docs_show(shots):
    """Runs after the walk above (pytest keeps a file's order): every image the README shows is
    one this run took, so the README's images can always be retaken from it."""
    shown = documented_screenshots()
    assert "screenshot.png" in shown and "screenshots/compare.png" in shown   # the pattern still finds them
    missing = sorted(name for name in shown
                     if not (shots / name).is_file() or (shots / name).stat().st_mtime < BEGAN)
    assert not missing, f"the docs show screenshots this run did not take: {missing}"

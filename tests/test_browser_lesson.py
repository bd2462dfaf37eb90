"""The lesson, the shareable link and classroom mode in a real browser (Playwright driving
Debian's chromium, as tests/test_browser.py; set ENERGYLAB_CHROMIUM to use another binary)."""
from urllib.parse import parse_qs, urlsplit

from conftest import wait_for, wait_until_opened


def address(page) -> dict:
    """The query of the page's address now, as single values."""
    return {k: v[-1] for k, v in parse_qs(urlsplit(page.evaluate("location.href")).query).items()}


def status(page) -> str:
    return page.inner_text("#status")


def test_a_link_opens_its_configuration(open_page):
    page = open_page("dataset=grid&seed=3&landscape=log+density&entropy_weight=0")
    wait_for(lambda: "opened a link: grid, seed 3" in status(page), what="the link's status")
    assert page.get_by_label("dataset").input_value() == "grid"
    assert page.get_by_label("log density").is_checked()
    assert page.locator("#landscape .gtitle").first.text_content().startswith("log density")
    assert float(page.get_by_label("number input for entropy weight").input_value()) == 0
    page.get_by_role("button", name="networks and seed").click()
    assert page.locator("#seed input").input_value() == "3"
    # the address bar now carries the whole configuration, seed and view included
    wait_for(lambda: address(page).get("modes") == "25", what="the full link in the address bar")
    assert {k: address(page)[k] for k in ("dataset", "seed", "entropy_weight", "landscape")} == {
        "dataset": "grid", "seed": "3", "entropy_weight": "0.0", "landscape": "log density"}


def test_a_hostile_link_says_what_it_ignored(open_page):
    page = open_page("seed=-1&dataset=%3Cimg%20src=x%20onerror=alert(1)%3E&lesson=x")
    wait_for(lambda: "the link had problems" in status(page), what="the problems")
    assert "pretrained: ring" in status(page)
    assert page.locator("#status img").count() == 0   # the hostile value is text, not HTML


def test_a_links_problems_stay_in_the_status_after_the_tab_it_opens_is_drawn(browser, app_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:   # opened here, not by open_page: the landscape it waits for is on a tab the link does not show
        page.set_default_timeout(60_000)
        page.goto(app_url + "?seed=-1&tab=gallery")
        # the gallery the link opened draws itself (its tab's select event) and says so in the status line
        page.wait_for_selector("#gallery .main-svg")
        wait_until_opened(page)
        wait_for(lambda: "gallery in" in status(page), what="the gallery's draw")
        assert "the link had problems" in status(page) and "seed" in status(page)
        wait_for(lambda: address(page).get("tab") == "gallery", what="the opened tab in the address")
        assert "the link had problems" in status(page)
        page.click("#gallery-draw")   # the user's next action: the link's problems are over
        wait_for(lambda: "the link had problems" not in status(page), what="the problems to go")
        assert "gallery in" in status(page)
    finally:
        page.close()


def test_stepping_through_the_lesson_sets_up_each_step(open_page):
    page = open_page()
    wait_for(lambda: "pretrained: ring" in status(page), what="the default pair")
    page.click("#lesson-next")
    wait_for(lambda: "Step 1 of 7" in page.inner_text("#lesson-indicator"), what="step 1")
    page.click("#lesson-next")
    wait_for(lambda: "Step 2 of 7" in page.inner_text("#lesson-indicator"), what="step 2")
    assert "log Z cancels" in page.inner_text("#lesson-indicator")
    wait_for(lambda: page.get_by_label("log density").is_checked(), what="step 2's view")
    assert page.locator("#lesson-text .katex").count() > 0   # the equations are typeset
    page.click("#lesson-next")
    # a click while the last step is still setting up is dropped (the button triggers once at a time)
    wait_for(lambda: "Step 3 of 7" in page.inner_text("#lesson-indicator"), what="step 3")
    wait_for(lambda: "pretrained: ring" in status(page), what="step 3's pair")
    page.click("#lesson-next")
    wait_for(lambda: "pretrained: lesson-no-entropy" in status(page), what="step 4's pair")
    assert "lesson-no-entropy" in page.get_by_label("pretrained pair").input_value()
    assert page.get_by_label("density", exact=True).is_checked()
    wait_for(lambda: address(page).get("lesson") == "4" and address(page).get("pair") == "lesson-no-entropy",
             what="the lesson step in the address")
    page.click("#lesson-prev")
    wait_for(lambda: "pretrained: lesson ·" in status(page) or "Step 3 of 7" in page.inner_text("#lesson-indicator"),
             what="back to step 3")
    wait_for(lambda: "pretrained: ring" in status(page), what="step 3's pair")


def test_classroom_hides_the_advanced_controls(open_page):
    page = open_page()
    learning_rate = page.get_by_label("lr energy")
    assert not learning_rate.is_visible()   # folded under "advanced"
    page.get_by_role("button", name="networks and seed").click()
    wait_for(lambda: learning_rate.is_visible(), what="the advanced group to open")
    page.get_by_label("classroom: hide the advanced controls").check()
    wait_for(lambda: not learning_rate.is_visible(), what="the learning rate to hide")
    assert page.get_by_role("button", name="networks and seed").count() == 0
    assert page.locator("#pair-upload").is_visible()   # a pair's files stay: a teacher loads pairs
    for kept in ("dataset", "entropy estimator"):
        assert page.get_by_label(kept).is_visible()
    assert page.locator("#train").is_visible() and page.locator("#lesson-next").is_visible()
    wait_for(lambda: address(page).get("classroom") == "1", what="classroom in the address")
    page.get_by_label("classroom: hide the advanced controls").uncheck()
    wait_for(lambda: learning_rate.is_visible(), what="the learning rate to come back")


def test_the_classroom_flag_in_a_link_hides_them_on_opening(open_page):
    page = open_page("classroom=1")
    wait_for(lambda: page.get_by_label("classroom: hide the advanced controls").is_checked(), what="the checkbox")
    wait_for(lambda: not page.get_by_label("lr energy").is_visible(), what="the learning rate to hide")


def test_the_address_and_copy_link_follow_a_changed_control(open_page):
    page = open_page()
    wait_for(lambda: address(page).get("entropy_weight") == "1.0", what="the first link")
    weight = page.get_by_label("number input for entropy weight")
    weight.fill("0.5")
    weight.press("Enter")
    wait_for(lambda: address(page).get("entropy_weight") == "0.5", what="the address to follow the control")
    page.get_by_role("tab", name="Gallery").click()
    wait_for(lambda: address(page).get("tab") == "gallery", what="the open tab in the address")
    assert address(page).get("pair") == "ring"
    menu = page.get_by_label("pretrained pair")
    assert menu.input_value().startswith("ring")
    page.click("#reset")   # a new run: the link and the pair menu name no pair any more
    wait_for(lambda: "pair" not in address(page), what="the pair to leave the link")
    wait_for(lambda: menu.input_value() == "", what="the pair menu to empty")
    page.click("#copy-link")
    link = page.locator("#link textarea")
    wait_for(lambda: "entropy_weight=0.5" in link.input_value(), what="the link box")
    assert link.input_value() == page.evaluate("location.href")


def test_a_copied_link_opens_the_same_experiment_in_a_fresh_browser(open_page, app_url):
    first = open_page("dataset=grid&seed=3")
    wait_for(lambda: address(first).get("modes") == "25", what="the first link")
    first.get_by_label("density", exact=True).check()
    wait_for(lambda: address(first).get("landscape") == "density", what="the view in the link")
    query = urlsplit(first.evaluate("location.href")).query
    second = open_page(query)
    wait_for(lambda: "opened a link: grid, seed 3" in status(second), what="the link in a fresh page")
    assert second.get_by_label("density", exact=True).is_checked()
    wait_for(lambda: address(second) == address(first), what="the same link back")

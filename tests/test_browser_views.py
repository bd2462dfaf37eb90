"""The Embedding (UMAP) tab in a real browser (Playwright driving Debian's chromium, as tests/test_browser.py):
it says what it will show before it is asked, and that it is computing as soon as it is."""
import time

from conftest import wait_for

EMBEDDING_TEXT_JS = "() => document.querySelector('#embedding')?.textContent || ''"


def embedding_text(page) -> str:
    return page.evaluate(EMBEDDING_TEXT_JS)


def test_the_embedding_view_says_what_it_shows_then_that_it_computes_then_draws(page):
    page.get_by_role("tab", name="Embedding (UMAP)").click()
    # before any click: a placeholder that says what the view shows and how long the first UMAP takes
    wait_for(lambda: "Press Compute UMAP" in embedding_text(page), timeout=20, what="the placeholder")
    assert "20-40 s" in embedding_text(page)
    assert page.locator("#embedding .annotation-text").first.is_visible()
    clicked = time.perf_counter()
    page.click("#embed")
    # at once (not after the layout's tens of seconds): the view says it is computing
    page.wait_for_function(f"() => ({EMBEDDING_TEXT_JS})().includes('Computing the UMAP')", timeout=10_000,
                           polling=50)
    announced = time.perf_counter() - clicked
    assert "UMAP in" not in page.inner_text("#status")   # the message came before the chart
    assert announced < 3.0, f"the computing message took {announced:.1f} s"
    wait_for(lambda: "UMAP in" in page.inner_text("#status"), timeout=180, what="the embedding")
    wait_for(lambda: page.locator("#embedding .scatterlayer .point").count() > 1000, timeout=30,
             what="the UMAP's points")
    assert "Computing" not in embedding_text(page) and "Press Compute UMAP" not in embedding_text(page)


def test_colour_by_class_is_offered_only_for_digits(page):
    page.get_by_role("tab", name="Embedding (UMAP)").click()
    choice = page.locator('#colour-by [data-testid="class-radio-label"]')
    assert page.locator('#colour-by [data-testid="energy-radio-label"]').is_visible()
    assert choice.count() == 1 and not choice.is_visible()      # the default pair is of 2-D points
    # the pair changes while the Embedding tab is open: the offer follows it, both ways
    for pair, offered in (("digits", True), ("ring", False)):
        page.get_by_label("pretrained pair").click()
        page.get_by_role("option", name=f"{pair} —").first.click()
        wait_for(lambda: f"pretrained: {pair}" in page.inner_text("#status"), what=f"the {pair} pair")
        wait_for(lambda: choice.is_visible() == offered, timeout=20, what=f"'class' offered={offered} for {pair}")


def test_a_link_to_digits_on_the_embedding_tab_offers_colour_by_class(browser, app_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(app_url + "?pair=digits&tab=embedding")   # the landscape's tab is never opened
        wait_for(lambda: "pretrained: digits" in page.inner_text("#status"), what="the digits pair")
        wait_for(lambda: page.locator('#colour-by [data-testid="class-radio-label"]').is_visible(), timeout=20,
                 what="the 'class' choice")
    finally:
        page.close()

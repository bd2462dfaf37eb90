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

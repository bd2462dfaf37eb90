"""Draw, replay and export in a real browser: Playwright driving Debian's chromium, as tests/test_browser.py."""
import re

from conftest import wait_for


def status(page) -> str:
    return page.inner_text("#status")


def title_step(page) -> int:
    """The step in the landscape's title (-1 while plotly redraws it)."""
    title = page.locator("#landscape .gtitle")
    text = title.first.text_content(timeout=5_000) if title.count() else ""
    match = re.search(r"step ([\d,]+)", text or "")
    return int(match.group(1).replace(",", "")) if match else -1


def test_draw_points_use_them_and_step(page):
    page.get_by_role("tab", name="Draw").click()
    canvas = page.locator("#draw-canvas canvas")
    canvas.wait_for()
    box = canvas.bounding_box()
    for i in range(30):   # a 6 x 5 lattice of clicks, one point each (relative to the canvas, wherever it is now)
        canvas.click(position={"x": box["width"] * (0.15 + 0.14 * (i % 6)),
                               "y": box["height"] * (0.2 + 0.15 * (i // 6))}, delay=20)
    assert page.inner_text("#draw-canvas .draw-count") == "30 points"
    page.locator("#draw-canvas .draw-undo").click()
    assert page.inner_text("#draw-canvas .draw-count").startswith("29 points")
    # a drag sprays points along the stroke; Undo takes the whole stroke back
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.9)
    page.mouse.down()
    for i in range(1, 41):
        page.mouse.move(box["x"] + box["width"] * (0.1 + 0.02 * i), box["y"] + box["height"] * 0.9)
    page.mouse.up()
    sprayed = int(page.inner_text("#draw-canvas .draw-count").split()[0])
    assert sprayed >= 29 + 40   # 3 points a dab, a dab every 6 pixels of a 384-pixel stroke
    page.locator("#draw-canvas .draw-undo").click()
    assert page.inner_text("#draw-canvas .draw-count").startswith("29 points")
    canvas.click(position={"x": box["width"] * 0.5, "y": box["height"] * 0.9})
    page.click("#draw-use")
    wait_for(lambda: "live run" in status(page) and "step 0 / 3,000" in status(page), what="the drawn points' run")
    assert page.get_by_label("dataset").input_value() == "points"
    page.click("#step")
    wait_for(lambda: "step 10 / 3,000" in status(page), what="a step on the drawn points")
    wait_for(lambda: title_step(page) == 10, what="the landscape of step 10")
    assert page.locator("#landscape .js-plotly-plot .contour").count() >= 1


def test_replay_a_trained_run_then_export_a_png(page):
    steps = page.get_by_label("steps", exact=True)
    steps.fill("400")
    steps.press("Tab")
    page.click("#train")
    wait_for(lambda: "step 400 / 400" in status(page) and "finished" in status(page), timeout=120,
             what="the run to finish")
    wait_for(lambda: title_step(page) == 400, what="the last frame")
    slider = page.locator("#replay input[type=range]")
    wait_for(lambda: slider.get_attribute("max") == "400", what="the replay slider to span the run")
    slider.fill("100")   # drags back
    wait_for(lambda: 0 <= title_step(page) < 400, what="the replayed frame")
    replayed = title_step(page)
    assert abs(replayed - 100) < 100 and f"replaying step {replayed}" in status(page)

    with page.expect_download() as download:
        page.click("#export-png")
    file = download.value
    assert file.suggested_filename == f"energylab-landscape-step{replayed}.png"
    with open(file.path(), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"

    page.click("#replay-live")
    wait_for(lambda: title_step(page) == 400, what="Live to show the newest frame")


def test_html_export_sends_only_the_chosen_figure(page):
    sent = []
    page.on("request", lambda request: sent.append(request.post_data or "") if "queue/join" in request.url else None)
    page.click("#export-html")
    wait_for(lambda: ".html ready" in status(page), what="the HTML file")
    offered = page.inner_text("#export-file").replace("\n", "")
    assert re.search(r"energylab-ring-landscape-step3000(-\d+)?\.html", offered)
    # the export's request is the one that carries a figure (other events, e.g. the link's, name the
    # landscape tab but carry none); the landscape's JSON travels, not the curves' or histogram's
    body = next(data for data in sent if '"landscape"' in data and "E(x)" in data)
    assert "energy histograms" not in body and "entropy estimate H" not in body

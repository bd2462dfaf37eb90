"""The Compare view's target, measured as a user meets it, in a real browser (issue 6).

    python -m benchmarks.compare_live [--seconds 40] [--preset lesson] [--seed 0]

Opens the page, the Compare tab, presses "Train both" (entropy weight 0 vs the paper's, the
default), and reads the page's coverage line as it streams: prints, against the seconds since
the click, each new measurement of both sides, and when the contrast is first shown in numbers
(the entropy side covers >= 95 % of the modes and the other side at most half of them).
Run it alone: the app, two training threads and the browser share two cores here.
"""
from __future__ import annotations

import argparse
import re
import time

from benchmarks.app_live import CHROMIUM, free_port, start_app

COVERAGE = re.compile(r"\*{0,2}([^*·\n]+?)\*{0,2}: (\d+)/(\d+) at step ([\d,]+)")


def read_coverage(text: str) -> list[tuple[str, int, int, int]]:
    return [(name.strip(), int(c), int(t), int(s.replace(",", ""))) for name, c, t, s in COVERAGE.findall(text)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=40.0, help="how long to watch")
    parser.add_argument("--preset", default="lesson")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    port = free_port()
    app = start_app(port)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            while True:
                try:
                    page.goto(f"http://127.0.0.1:{port}/", timeout=2000)
                    break
                except Exception:  # noqa: BLE001 - not listening yet
                    time.sleep(0.2)
            page.wait_for_selector("#landscape .main-svg", timeout=60_000)
            page.get_by_role("tab", name="Compare").click()
            if args.preset != "lesson":
                page.get_by_label("preset").select_option(args.preset)
            seed = page.get_by_label("seed (both runs)")
            seed.fill(str(args.seed))
            seed.press("Tab")
            page.click("#compare-train")
            clicked = time.perf_counter()
            seen, contrast_at, landscapes_at = set(), None, None
            while time.perf_counter() - clicked < args.seconds:
                elapsed = time.perf_counter() - clicked
                landscapes = page.locator("#compare-left .main-svg, #compare-right .main-svg")
                if landscapes_at is None and landscapes.count() >= 2:
                    landscapes_at = elapsed
                sides = read_coverage(page.inner_text("#compare-status"))
                if len(sides) == 2:
                    key = (sides[0][3], sides[1][3])
                    if key not in seen:
                        seen.add(key)
                        print(f"{elapsed:5.1f} s  "
                              + "  |  ".join(f"{n}: {c}/{t} at step {s:,}" for n, c, t, s in sides))
                    (_, left, total, _), (_, right, _, _) = sides
                    if contrast_at is None and right >= 0.95 * total and left <= 0.5 * total:
                        contrast_at = elapsed
                time.sleep(0.2)
            page.click("#compare-stop")
            print(f"both landscapes drawn {landscapes_at:.1f} s after the click" if landscapes_at
                  else "landscapes not seen")
            if contrast_at is not None:
                print(f"contrast shown in numbers {contrast_at:.1f} s after the click (target < 30 s)")
            else:
                print(f"contrast NOT shown in numbers within {args.seconds:.0f} s")
            browser.close()
    finally:
        app.terminate()
        app.wait(10)


if __name__ == "__main__":
    main()

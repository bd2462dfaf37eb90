"""Many users at once (issues 7 and 20): N sessions press Train together and stream through
gradio_client against one `python app.py`, and new visitors open the page in chromium meanwhile,
one after another; then the sessions leave.

    python -m benchmarks.load [--sessions 8] [--seconds 50] [--visitors 3] [--places N] [--turn-seconds S]
    python -m benchmarks.load --sessions 30 --seconds 60 --visitors 5 --against 8 --rounds 3

Each session trains its own configuration, told apart by its planned steps (100,000 + i), so a
frame that reached the wrong session would show another session's total. Prints, per session: the
time to its first step, the steps reached, the frames received, and the wait its page was shown
(its first place in the line, and for how long it saw one); whether any frame showed another
session's run; training as a whole (every session's steps together, per second); the new
visitors' page load times (in the page, and as Playwright saw them); the app's resident memory at
the start, at its peak and per session; and once every session has pressed Stop and closed its
client, how long until the app's memory is back within 50 MB of the start and its training idle.
"""
from __future__ import annotations

import argparse
import os
import re
import threading
import time

from benchmarks.app_live import CHROMIUM, free_port, start_app
from explorer.training.memory import resident_mb as process_resident_mb

STATUS = re.compile(r"step ([\d,]+) / ([\d,]+)")
WAITING = re.compile(r"waiting: place (\d+) of (\d+), ([^·\n]+)")


# Measured in the page: from the start of the navigation (performance.now()'s origin) to the first
# animation frame after the landscape's chart is laid out, i.e. when the visitor sees it.
# Playwright's own wait is reported beside it: its Python side shares this process's GIL with the
# 8 clients parsing their frames, and was seen to lag the page (docs/speed.md).
LANDSCAPE_SHOWN_JS = """
(() => {
  const check = () => {
    const chart = document.querySelector('#landscape .main-svg');
    if (chart && chart.getBoundingClientRect().width > 0) {
      requestAnimationFrame(() => { window.energylabLandscapeShown = performance.now(); });
    } else {
      setTimeout(check, 10);
    }
  };
  check();
})();
"""


# Each visitor is a ninth visitor of its own: it comes after the previous one has gone and the app
# has had a few seconds with only the 8 runs (a page request within 1 s of the last page's grace gets
# none: explorer/training/capacity.py).
VISITOR_SPACING = 4.0


def family(pid: int) -> list[int]:
    """The app and its children (its training processes: explorer/training/processes.py)."""
    children = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                children += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return [pid, *children]


def parts_mb(pid: int) -> str:
    """The app's own resident memory and its training processes', in words."""
    own, total = resident_mb(pid, alone=True), resident_mb(pid)
    return f"the app's process {own:.0f} MB, its training processes {total - own:.0f} MB"


def resident_mb(pid: int, alone: bool = False) -> float:
    """The app's resident memory, its training processes' included (unless `alone`)."""
    own = process_resident_mb(pid)
    if own is None:
        return float("nan")
    return own + (0.0 if alone else sum(process_resident_mb(child) or 0.0 for child in family(pid)[1:]))


def machine_cpu_seconds() -> float:
    """CPU time spent by every process on the machine so far (all cores: /proc/stat's busy jiffies)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)   # idle and iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """The app's CPU time so far (user and system, all its threads), its training processes' included."""
    total = 0.0
    for member in family(pid):
        try:
            with open(f"/proc/{member}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


class MemoryWatch:
    """The app's resident memory, sampled every second in the background: its peak."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            self.peak = max(self.peak, resident_mb(self.pid))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join(5)
        return self.peak


def cpu_share(pid: int, seconds: float = 3.0) -> float:
    """The cores the process uses over the next `seconds`."""
    cpu, at = cpu_seconds(pid), time.perf_counter()
    time.sleep(seconds)
    return (cpu_seconds(pid) - cpu) / (time.perf_counter() - at)


def settled(pid: int, limit: float = 120.0) -> float:
    """Wait until the app's launch is done (its own warm-up, its training processes' warm-up): its
    CPU share below a fifth of a core over 2 s, at most `limit` seconds; returns the seconds waited."""
    began = time.perf_counter()
    while cpu_share(pid, 2.0) >= 0.2 and time.perf_counter() - began < limit:
        pass
    return time.perf_counter() - began


def after_leaving(pid: int, start_mb: float, idle_share: float,
                  limit: float = 90.0) -> tuple[float | None, float | None, float]:
    """Seconds until the app's memory is back within 50 MB of `start_mb`, and until it uses no more
    than `idle_share` of a core (an idle server's own, measured at the start) plus 0.2 (its runs
    ended); None if not within `limit`. And its memory at the end."""
    began, back, idle = time.perf_counter(), None, None
    cpu, at = cpu_seconds(pid), time.perf_counter()
    while time.perf_counter() - began < limit and (back is None or idle is None):
        time.sleep(2.0)
        now_cpu, now = cpu_seconds(pid), time.perf_counter()
        if idle is None and (now_cpu - cpu) / (now - at) < idle_share + 0.2:
            idle = now - began
        cpu, at = now_cpu, now
        if back is None and resident_mb(pid) - start_mb <= 50:
            back = time.perf_counter() - began
    return back, idle, resident_mb(pid)


def controls(index: int) -> list:
    """ring with 3 + index modes, planned steps 100,000 + index (the session's fingerprint)."""
    return ["ring", 3 + index, 2.0, 2.0, 0.05, "generator", "paper", "batchnorm", 1.0, 1e-3, 1e-3, 128, 64, 0, 4,
            100_000 + index, index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=50.0)
    parser.add_argument("--visitors", type=int, default=3, help="new visitors, one after another")
    parser.add_argument("--places", type=int, help="the app's ENERGYLAB_MAX_TRAINING (default: the app's own)")
    parser.add_argument("--turn-seconds", type=float, help="the app's ENERGYLAB_TURN_SECONDS (default: the app's own)")
    parser.add_argument("--against", type=int,
                        help="also run this many sessions (e.g. 8) after each run, same visitors: the ratio of training "
                             "as a whole, round by round (the machine's speed drifts between runs: compare neighbours)")
    parser.add_argument("--rounds", type=int, default=1, help="with --against: pairs of runs, alternating")
    args = parser.parse_args()
    if args.places is not None:
        os.environ["ENERGYLAB_MAX_TRAINING"] = str(args.places)
    if args.turn_seconds is not None:
        os.environ["ENERGYLAB_TURN_SECONDS"] = str(args.turn_seconds)
    if args.against is None:
        run_once(args, args.sessions)
        return
    pairs = []
    for number in range(1, args.rounds + 1):
        rates = []
        for sessions in (args.sessions, args.against):
            print(f"\n## round {number}: {sessions} sessions", flush=True)
            rates.append(run_once(args, sessions))
        pairs.append(rates)
        print(f"round {number}: {args.sessions} sessions {rates[0]:,.0f} steps/s, {args.against} sessions "
              f"{rates[1]:,.0f} steps/s: {100 * rates[0] / rates[1]:.0f} %", flush=True)
    ratios = ", ".join(f"{100 * many / few:.0f}" for many, few in pairs)
    print(f"\ntraining as a whole, {args.sessions} sessions against {args.against}, {args.visitors} visitors: "
          f"{ratios} % by round; {100 * sum(p[0] for p in pairs) / sum(p[1] for p in pairs):.0f} % over all "
          f"{len(pairs)} rounds (target >= 90 %)")


def run_once(args, sessions: int) -> float:
    """One run of `sessions` sessions against a fresh app; prints its figures, returns training as a
    whole in steps per second."""
    from gradio_client import Client
    from playwright.sync_api import sync_playwright

    port = free_port()
    app = start_app(port)
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            try:
                Client(url, verbose=False).close()
                break
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.3)
        settled(app.pid)   # the app's launch done (explorer/ui/server.py, explorer/training/processes.py)
        start_mb, start_parts, idle_share = resident_mb(app.pid), parts_mb(app.pid), cpu_share(app.pid)
        memory = MemoryWatch(app.pid)
        results = [dict(frames=0, steps=[], foreign=0, error=None, first_step=None, place=None, waited=0.0)
                   for _ in range(sessions)]
        clients = []

        def drive(index: int) -> None:
            result = results[index]
            try:
                client = Client(url, verbose=False)
                clients.append(client)
                began = time.time()
                job = client.submit(*controls(index), api_name="/train")
                deadline = began + args.seconds
                seen, last_wait = 0, None
                while time.time() < deadline:
                    outputs = job.outputs()
                    now = time.time()
                    for frame in outputs[seen:]:
                        match = STATUS.search(frame[3] or "")
                        if match:
                            step, total = (int(g.replace(",", "")) for g in match.groups())
                            result["steps"].append(step)
                            result["foreign"] += total != 100_000 + index
                            if step > 0 and result["first_step"] is None:
                                result["first_step"] = now - began
                        waiting = WAITING.search(frame[3] or "")
                        if waiting and result["place"] is None:
                            result["place"] = waiting.group(0).strip()
                        if waiting and last_wait is None:
                            last_wait = now
                        elif not waiting and last_wait is not None:
                            result["waited"] += now - last_wait
                            last_wait = None
                    result["frames"] += sum(isinstance(frame[0], str) for frame in outputs[seen:])   # a landscape
                    seen = len(outputs)
                    time.sleep(0.2)
                if last_wait is not None:
                    result["waited"] += time.time() - last_wait
                client.predict(api_name="/stop")
            except Exception as e:  # noqa: BLE001 - reported below
                result["error"] = f"{type(e).__name__}: {e}"

        threads = [threading.Thread(target=drive, args=(i,)) for i in range(sessions)]
        # whose cores: the app's, and this process's (the sessions' clients, parsing every frame)
        app_cpu, own_cpu, window = cpu_seconds(app.pid), time.process_time(), time.perf_counter()
        machine_cpu = machine_cpu_seconds()
        for thread in threads:
            thread.start()
        time.sleep(min(10.0, args.seconds / 3))   # all sessions training: now new visitors come
        visitors = []   # (in the page, as this process saw it), seconds
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
            for _ in range(args.visitors):
                context = browser.new_context()   # a new visitor: nothing cached
                page = context.new_page()
                page.add_init_script(LANDSCAPE_SHOWN_JS)
                started = time.perf_counter()
                page.goto(url)
                page.wait_for_selector("#landscape .main-svg", timeout=60_000)
                seen = time.perf_counter() - started
                page.wait_for_function("window.energylabLandscapeShown !== undefined", timeout=60_000)
                visitors.append((page.evaluate("window.energylabLandscapeShown") / 1000, seen))
                context.close()
                time.sleep(VISITOR_SPACING)
            browser.close()
        for thread in threads:
            thread.join()
        window = time.perf_counter() - window
        app_cores, own_cores = (cpu_seconds(app.pid) - app_cpu) / window, (time.process_time() - own_cpu) / window
        # the rest: the visitors' browser (on a Space, the visitors' own machines) and anything else running
        other_cores = max(0.0, (machine_cpu_seconds() - machine_cpu) / window - app_cores - own_cores)
        peak_mb = memory.stop()
        for client in clients:   # every session leaves: its heartbeat ends, as a closed tab's
            client.close()
        left = time.perf_counter()
        back, idle, end_mb = after_leaving(app.pid, start_mb, idle_share)
        end_parts = parts_mb(app.pid)
        progressed, waited = 0, 0
        for index, result in enumerate(results):
            steps = result["steps"]
            reached = max(steps) if steps else 0
            progressed += reached >= 100
            waited += result["place"] is not None
            first = f"{result['first_step']:.1f} s" if result["first_step"] is not None else "never"
            print(f"session {index}: first step after {first}, steps reached {reached:,}, {result['frames']} frames, "
                  + (f"first shown '{result['place']}', {result['waited']:.0f} s in line in all"
                     if result["place"] else "no wait shown")
                  + (f", frames of another run: {result['foreign']}" if result["foreign"] else "")
                  + (f", ERROR {result['error']}" if result["error"] else ""))
        total = sum(max(r["steps"]) if r["steps"] else 0 for r in results)
        firsts = sorted(r["first_step"] for r in results if r["first_step"] is not None)
        unseen = sum(r["place"] is None and (r["first_step"] or args.seconds) > 5 for r in results)
        print(f"{progressed} of {sessions} sessions reached 100 steps; {waited} waited in line and were shown "
              f"their place, {unseen} took over 5 s to their first step with no wait shown; cross-talk frames: "
              f"{sum(r['foreign'] for r in results)}")
        if firsts:
            print(f"time to the first step: median {firsts[len(firsts) // 2]:.1f} s, worst {firsts[-1]:.1f} s "
                  f"({len(firsts)} of {sessions} sessions)")
        print(f"training as a whole: {total:,} steps in {args.seconds:.0f} s, {total / args.seconds:,.0f} steps/s "
              f"(compare with --sessions 8 on the same machine)")
        print(f"cores used while the sessions ran: the app {app_cores:.2f}, the sessions' clients (this process) "
              f"{own_cores:.2f}, the rest of the machine (the visitors' browser) {other_cores:.2f}; "
              f"{total / max(app_cores * args.seconds, 1e-9):,.0f} steps per core-second of the app")
        for number, (shown, seen) in enumerate(visitors, start=1):
            print(f"visitor {number}: landscape on screen {shown:.2f} s after the page was asked for "
                  f"(this process, sharing its cores and GIL with the streaming clients, saw it at {seen:.2f} s)")
        if visitors:
            shown = sorted(s for s, _ in visitors)
            print(f"a new visitor's page showed its landscape in {shown[len(shown) // 2]:.2f} s, median of "
                  f"{len(shown)} (worst {shown[-1]:.2f} s; target < 3 s)")
        print(f"app resident memory (its training processes included): {start_mb:.0f} MB at the start "
              f"({start_parts}), {peak_mb:.0f} MB at the peak, "
              f"{(peak_mb - start_mb) / max(1, sessions):.1f} MB per session")
        print("after every session left: memory "
              + (f"within 50 MB of the start in {back:.0f} s" if back is not None else "not back within 90 s")
              + (f", training idle in {idle:.0f} s" if idle is not None else ", still busy after 90 s")
              + f"; {end_mb:.0f} MB at the end ({end_parts}; {time.perf_counter() - left:.0f} s after they left; "
              f"an idle app uses {idle_share:.2f} of a core)")
        return total / args.seconds
    finally:
        app.terminate()
        app.wait(10)


if __name__ == "__main__":
    main()

"""A training process's pipe (explorer/training/channel.py): requests go on the pipe as they are
asked, answers come back in order to the request that asked, and a process that goes fails every
request left. The process here is a small echo in lines (the channel does not care how messages
are encoded), so the test needs no torch in a child."""
import subprocess
import sys
import threading

import pytest

from explorer.training.channel import Channel

# answers each line after `delay` seconds, noting when it read it (and `pad` bytes more, as a frame's
# weights); "exit" ends it unanswered
ECHO = """
import sys, time
start = time.monotonic()
pad = "x" * int(sys.argv[2])
for line in sys.stdin:
    read_at = time.monotonic() - start
    if line.strip() == "exit":
        break
    time.sleep(float(sys.argv[1]))
    sys.stdout.write(f"{line.strip()[:20]} {read_at:.3f} {pad}\\n")
    sys.stdout.flush()
"""


class Gone(Exception):
    pass


def echo(delay: float, pad: int = 0) -> Channel:
    process = subprocess.Popen([sys.executable, "-c", ECHO, str(delay), str(pad)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def read(stdout):
        line = stdout.readline()
        if not line:
            raise EOFError
        text, read_at, *_ = line.decode().split()
        return text, float(read_at)

    return Channel(process, lambda message: f"{message}\n".encode(), read, lambda: Gone("the process has gone"))


def test_requests_asked_together_are_answered_in_turn_each_to_its_own():
    channel = echo(delay=0.3)
    try:
        futures = [channel.ask(word) for word in ("first", "second", "third")]   # none waits for an answer
        answers = [future.result(timeout=10) for future in futures]
        assert [text for text, _ in answers] == ["first", "second", "third"]
        # the second was on the pipe while the first was worked on: read the moment the first was answered
        read_at = [at for _, at in answers]
        assert read_at[1] - read_at[0] == pytest.approx(0.3, abs=0.15)
        assert read_at[2] - read_at[1] == pytest.approx(0.3, abs=0.15)
    finally:
        channel.end()


def test_a_process_that_goes_fails_every_request_left_and_every_later_one():
    channel = echo(delay=0.2)
    first, last_words, after = channel.ask("answered"), channel.ask("exit"), channel.ask("never read")
    assert first.result(timeout=10)[0] == "answered"
    for future in (last_words, after):
        with pytest.raises(Gone):
            future.result(timeout=10)
    assert channel.process.wait(5) == 0
    with pytest.raises(Gone):
        channel.ask("later").result(timeout=10)


def test_a_killed_process_fails_its_requests():
    channel = echo(delay=5.0)
    waiting = channel.ask("slow")
    channel.end()   # stalled: ended from outside
    with pytest.raises(Gone):
        waiting.result(timeout=10)
    assert channel.process.wait(5) is not None


def test_a_large_request_on_a_full_pipe_does_not_hold_the_answers_back():
    # a run's copy (~1 MB) written while the process answers earlier requests with frames' weights
    # (~300 kB here): both pipes fill, and the reader must go on reading while the writer waits
    channel = echo(delay=0.2, pad=300_000)
    futures = []
    asking = threading.Thread(target=lambda: futures.extend(channel.ask(m) for m in ("a", "b", "c" * 1_000_000, "d")),
                              daemon=True)   # a writer stuck for good would hang the test, not fail it
    try:
        asking.start()
        asking.join(20)
        assert not asking.is_alive(), "the large request was never read: the pipes are stuck"
        assert [future.result(timeout=20)[0] for future in futures] == ["a", "b", "c" * 20, "d"]
    finally:
        channel.end()


def test_a_request_on_a_closed_pipe_fails_as_the_process_having_gone():
    channel = echo(delay=0.0)
    channel.process.stdin.close()   # as a renewed or closed process's pipe
    with pytest.raises(Gone):
        channel.ask("too late").result(timeout=10)

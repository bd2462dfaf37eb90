"""A training process's pipe, with requests written as they come and answers read in order.

Why: the process answers one request at a time, and between two chunks it waits for the app's next
request. When a run's thread wrote its request only once the previous answer had been read (one
lock around write-and-read), that wait was the app's: with thirty pages streaming, the next
thread took ~10 ms of the interpreter lock to wake and write, and the process stood idle for a
quarter of its time (a profile at stop 34: `train_step` in ~75 % of its samples). Here a request
is written at once, behind the ones already there; the process reads the next the moment it has
answered, and a thread of the channel's own reads the answers, in the order asked, into each
request's Future.

Messages are length-prefixed torch.save pickles (explorer/training/processes.py), the app's own
objects only.
"""
from __future__ import annotations

import subprocess
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future


class Channel:
    """One start of a training process: `ask` writes a request and returns its answer's Future."""

    def __init__(self, process: subprocess.Popen, encode: Callable[[object], bytes],
                 read: Callable[[object], object], gone: Callable[[], Exception]):
        """`encode`: a message's bytes on the pipe (its length first); `read`: the next answer
        from the process's stdout (EOFError once it has gone); `gone`: the error each unanswered
        request gets when the process has gone."""
        self.process = process
        self._encode, self._read, self._gone_error = encode, read, gone
        self._pending: deque[Future] = deque()   # asked, not yet answered, oldest first
        # two locks: a request's place in `_pending` and its bytes on the pipe follow the same order
        # (both under `_writing`), and the reader needs only `_answers`. With one lock, a writer
        # blocked on a full pipe (a run's copy, ~1 MB) would hold the reader, and the process,
        # blocked writing a frame's weights (~200 kB) that nobody reads, would never read on.
        self._writing = threading.Lock()
        self._answers = threading.Lock()         # guards `_pending` and `_gone`
        self._gone = False
        threading.Thread(target=self._read_answers, name="energylab-answers", daemon=True).start()

    def ask(self, message) -> Future:
        """Write `message` behind the requests already asked; its Future gets the process's answer
        (or `gone`'s error if the process goes first)."""
        data = self._encode(message)   # outside the lock: another thread may write meanwhile
        future: Future = Future()
        with self._writing:
            with self._answers:
                if self._gone:
                    future.set_exception(self._gone_error())
                    return future
                self._pending.append(future)
            try:
                self.process.stdin.write(data)
                self.process.stdin.flush()
            except (OSError, ValueError):   # the process has gone (or its pipe was closed, ValueError);
                self.process.kill()   # half a message may be in the pipe: end it, and the reader fails
                # this request with the others
        return future

    def end(self) -> None:
        """The process is of no further use (stalled, or half a message on its pipe): killed; every
        unanswered request fails."""
        self.process.kill()

    def _read_answers(self) -> None:
        stdout = self.process.stdout
        while True:
            try:
                answer = self._read(stdout)
            except Exception:  # noqa: BLE001 - EOF, or a broken answer: either way this process is done
                break
            with self._answers:
                future = self._pending.popleft() if self._pending else None
            if future is None:   # an answer nobody asked for: the pipe is out of step
                break
            future.set_result(answer)
        if self.process.poll() is None:
            self.process.kill()
        with self._answers:
            self._gone = True
            unanswered, self._pending = list(self._pending), deque()
        for future in unanswered:
            future.set_exception(self._gone_error())

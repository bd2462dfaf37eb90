"""What the command-line tools share: clean one-line errors instead of tracebacks."""
from __future__ import annotations

import argparse
import sys

import torch

from explorer.errors import UserInputError
from models import CheckpointError


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2."""

    def add_threads_flag(self) -> None:
        self.add_argument("--threads", type=int, default=1,
                          help="CPU threads for torch (default 1: these small networks gain little from "
                               "more, and two processes on 2 cores slow down badly when each takes both)")

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def set_threads(threads: int) -> None:
    if not 1 <= threads <= 256:
        raise UserInputError(f"--threads must be between 1 and 256, got {threads}")
    torch.set_num_threads(threads)


def main_guard(main, prog: str) -> None:
    """Run main(); a user's mistake becomes `prog: error: message` and exit status 2."""
    try:
        main()
    except (UserInputError, CheckpointError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)

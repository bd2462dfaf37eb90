"""What the command-line tools share: clean one-line errors instead of tracebacks."""
from __future__ import annotations

import argparse
import sys

from models import CheckpointError

from .errors import UserInputError


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


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

"""The one exception type for input a user got wrong.

Command-line tools and the app catch it and show its message as is, on one line, with no trace:
everything else that goes wrong is a bug and keeps its traceback.
"""


class UserInputError(ValueError):
    """Bad input from a user: a flag out of range, a malformed file, a folder that is no checkpoint.
    `field`, when known, names the setting (the page's control) that caused it."""

    def __init__(self, message: str = "", field: str | None = None):
        super().__init__(message)
        self.field = field


def expected_errors() -> tuple[type[Exception], ...]:
    """The errors the app shows as a message: bad input, and files that are not valid pairs."""
    from models import CheckpointError  # models stays importable without explorer
    return (UserInputError, CheckpointError)

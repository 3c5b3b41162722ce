"""The one error type for bad user input.

Everything a user can get wrong (a ratio, a path, a flag) raises `ConfigError` with a one-line message that names
the bad value and what is allowed. The CLI prints it as a single line and exits with status 2; Python callers can
catch it as a `ValueError`.
"""


class ConfigError(ValueError):
    """Bad input detected before (or instead of) expensive work."""


class HubError(RuntimeError):
    """A Hub operation failed (network, HTTP status, permissions); the message is one line with the cause."""


def one_line(err: BaseException) -> str:
    """``Type: first line of the message`` of an error, for a message that must stay on one line."""
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}".rstrip(": ")

"""The error types for bad user input and Hub failures, and the one place that turns faults into one line.

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


DEBUG_ENV = "HF_CLONELANG_DEBUG"
"""Set to 1 to get the full traceback of an unexpected error instead of its one line."""


def fault_message(err: BaseException) -> str | None:
    """One line for a fault the user can act on (bad input, a Hub or network failure, a file or disk problem),
    naming the file or value and what to do; None for anything else (a bug: the entry point says how to see its
    traceback). Libraries wrap such faults in their own errors (`datasets`' DatasetGenerationError around a full
    disk): the chain of causes is followed."""
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        message = _own_message(err)
        if message is not None:
            return message
        err = err.__cause__ or err.__context__
    return None


def _own_message(err: BaseException) -> str | None:
    import errno

    if isinstance(err, (ConfigError, HubError)):
        return str(err)
    if _is_network_fault(err):
        return f"{one_line(err)}: check the network and the repo or dataset id (HF_HUB_OFFLINE=1 allows no download)"
    if isinstance(err, UnicodeDecodeError):
        return f"a file is not UTF-8 text ({one_line(err)}): give UTF-8 text"
    if isinstance(err, OSError) and err.errno is not None:
        name = f" {err.filename!r}" if err.filename else ""
        what = {
            errno.ENOSPC: "free some space or write somewhere else",
            errno.EDQUOT: "free some space or write somewhere else",
            errno.EACCES: "choose a folder you can write to (or fix its permissions)",
            errno.EPERM: "choose a folder you can write to (or fix its permissions)",
            errno.EROFS: "choose a folder on a writable file system",
            errno.ENOENT: "check the path",
            errno.ENOTDIR: "a path component is a file, not a folder: check the path",
            errno.EISDIR: "a folder is where a file should be: check the path",
        }.get(err.errno, "check the path and the disk")
        return f"{err.strerror or one_line(err)}{name}: {what}"
    return None


def _is_network_fault(err: BaseException) -> bool:
    """A failed download or Hub request: no connection, a timeout, an HTTP error, offline mode."""
    if isinstance(err, (ConnectionError, TimeoutError)):
        return True
    try:
        from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled
    except ImportError:
        return False
    return isinstance(err, (HfHubHTTPError, OfflineModeIsEnabled))


def exit_message(prog: str, err: BaseException) -> tuple[str, int]:
    """``(line, exit status)`` for an error that ends a command: 2 for faults the user can fix, 1 for the rest."""
    message = fault_message(err)
    if message is not None:
        return f"{prog}: error: {message}", 2
    return f"{prog}: error: {one_line(err)} (unexpected: set {DEBUG_ENV}=1 to see the traceback)", 1

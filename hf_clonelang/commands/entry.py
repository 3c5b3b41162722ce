"""What every command does around its work: the Hub timeout, and one line (never a traceback) for every error."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from ..errors import DEBUG_ENV, exit_message, fault_message
from ..hub.push import apply_timeout_from_env


def run_command(prog: str, work: Callable[..., Any], *args: Any, interrupted: str = "interrupted") -> tuple[Any, int]:
    """``(result, 0)`` of ``work(*args)``; on an error, its one line on stderr and ``(None, status)``: 2 for bad
    input, Hub, network and file-system faults, 1 for anything unexpected (``HF_CLONELANG_DEBUG=1`` re-raises it
    for its traceback), 130 for Ctrl-C."""
    try:
        apply_timeout_from_env()  # every Hub request of the command: $HF_CLONELANG_HUB_TIMEOUT, default 60 s
        return work(*args), 0
    except KeyboardInterrupt:
        print(f"{prog}: {interrupted}", file=sys.stderr)
        return None, 130
    except Exception as err:
        if fault_message(err) is None and os.environ.get(DEBUG_ENV):
            raise
        line, status = exit_message(prog, err)
        print(line, file=sys.stderr)
        return None, status

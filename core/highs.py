"""A HiGHS instance without its copyright banner, for every package that solves with HiGHS.

The C++ constructor prints the banner to file descriptor 1 before any option can silence it;
the first construction of a process goes with fd 1 pointed at /dev/null.
"""

from __future__ import annotations

import os
import sys
from typing import Any

_banner_shown = False


def quiet_highs() -> Any:
    """A new ``highspy.Highs``; the process's first one prints nothing."""
    import highspy

    global _banner_shown
    if _banner_shown:
        return highspy.Highs()
    _banner_shown = True
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no file descriptor 1 (embedded interpreter): let it print
        return highspy.Highs()
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)

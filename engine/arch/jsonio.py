"""JSON from users' files with its nesting bounded before anything is built.

``json.loads`` recurses once per level: a file nested 100,000 levels deep ends in a
RecursionError traceback (and, read by code that walks the result, more of them).
``loads`` first scans the brackets outside string literals (one linear pass) and refuses
text nested deeper than ``MAX_JSON_DEPTH`` with the line where it happens.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_JSON_DEPTH = 64  # design and space files use about 6 levels

_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)


class JSONDepthError(ValueError):
    """JSON nested deeper than allowed; ``lineno`` is where the limit is crossed."""

    def __init__(self, lineno: int, limit: int) -> None:
        self.lineno, self.limit = lineno, limit
        super().__init__(f"nested deeper than {limit} levels")


def depth_error(text: str, limit: int = MAX_JSON_DEPTH) -> JSONDepthError | None:
    """The error for ``text`` nested deeper than ``limit`` levels, else None."""
    if text.count("[") + text.count("{") <= limit:
        return None
    depth = 0
    for m in _TOKENS.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > limit:
                return JSONDepthError(text.count("\n", 0, m.start()) + 1, limit)
        elif c in "]}":
            depth -= 1
    return None


def loads(text: str, limit: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` that raises ``JSONDepthError`` instead of recursing too deep."""
    error = depth_error(text, limit)
    if error is not None:
        raise error
    try:
        return json.loads(text)
    except RecursionError:  # a smaller interpreter stack than the limit assumes
        raise JSONDepthError(1, limit) from None

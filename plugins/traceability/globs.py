"""Path globs for ``covered_by.tests`` / ``covered_by.results``: ``**`` crosses folders.

``fnmatch`` lets ``*`` match ``/`` and has no notion of ``**``, and Python 3.11 has no
``PurePath.full_match``; so patterns are translated to regular expressions here:

* ``**`` as a whole segment matches zero or more folders (``**/x`` matches ``x`` and ``a/b/x``;
  ``a/**`` matches everything below ``a``; ``a/**/b`` matches ``a/b`` and ``a/x/y/b``);
* ``*`` matches any run of characters except ``/``; ``?`` one character except ``/``;
* ``[abc]``, ``[a-z]``, ``[!abc]`` (or ``[^abc]``) are character classes that never match ``/``;
* every other character is literal.

Paths are compared in POSIX form. A pattern without any ``/`` also matches the last path
component, as in ``.gitignore`` -- ``test_x.py`` finds ``tests/feed/test_x.py`` -- because plan
authors name a team's test file far more often than its folder.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import PurePath

__all__ = ["glob_to_regex", "glob_match", "any_glob_match", "GlobError"]


class GlobError(ValueError):
    """A pattern that cannot be translated (an unterminated character class)."""


def _char_class(pattern: str, start: int) -> tuple[str, int]:
    """Translate the class opening at ``pattern[start] == '['``; return (regex, next index)."""
    i = start + 1
    negate = i < len(pattern) and pattern[i] in "!^"
    if negate:
        i += 1
    body_start = i
    # A ']' right after the opening (or after the negation) is a literal member.
    if i < len(pattern) and pattern[i] == "]":
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 1
    if i >= len(pattern):
        raise GlobError(f"unterminated character class in glob {pattern!r}")
    body = pattern[body_start:i]
    escaped = "".join("\\" + c if c in "\\^[]" else c for c in body)
    # Classes stay inside one path segment, negated or not.
    regex = f"(?!/)[^{escaped}]" if negate else f"(?!/)[{escaped}]"
    return regex, i + 1


@lru_cache(maxsize=1024)
def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """Compile ``pattern`` to a regex matching whole POSIX paths (see the module docstring)."""
    if not pattern:
        raise GlobError("empty glob pattern")
    segments = pattern.strip("/").split("/") if pattern.strip("/") else [""]
    out: list[str] = []
    last = len(segments) - 1
    for index, segment in enumerate(segments):
        if segment == "**":
            if index == last:
                # Trailing '**': anything below the folder so far (or anything at all).
                out.append(".*" if index == 0 else "(?:/.*)?")
            elif index == 0:
                out.append("(?:.*/)?")
            else:
                out.append("(?:/.*)?/")
            continue
        if index > 0 and segments[index - 1] != "**":
            out.append("/")
        out.append(_segment_regex(segment, pattern))
    return re.compile("".join(out), re.DOTALL)


def _segment_regex(segment: str, pattern: str) -> str:
    parts: list[str] = []
    i = 0
    while i < len(segment):
        c = segment[i]
        if c == "*":
            while i < len(segment) and segment[i] == "*":
                i += 1  # '**' inside a segment ('a**b') means the same as '*'
            parts.append("[^/]*")
            continue
        if c == "?":
            parts.append("[^/]")
        elif c == "[":
            regex, i = _char_class(segment, i)
            parts.append(regex)
            continue
        else:
            parts.append(re.escape(c))
        i += 1
    return "".join(parts)


def _posix(path: str | PurePath) -> str:
    text = path.as_posix() if isinstance(path, PurePath) else str(path).replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    return text


def glob_match(path: str | PurePath, pattern: str) -> bool:
    """True when the whole of ``path`` matches ``pattern`` (or its last component does, for a
    pattern without ``/``)."""
    text = _posix(path)
    regex = glob_to_regex(pattern)
    if regex.fullmatch(text):
        return True
    if "/" not in pattern.strip("/"):
        return bool(regex.fullmatch(text.rsplit("/", 1)[-1]))
    return False


def any_glob_match(candidates: tuple[str, ...] | list[str], patterns: tuple[str, ...] | list[str]) -> str | None:
    """The first pattern that matches any of ``candidates``, else ``None``."""
    for pattern in patterns:
        for candidate in candidates:
            if candidate and glob_match(candidate, pattern):
                return pattern
    return None

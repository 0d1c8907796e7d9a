"""COPY's text format for `bench scale`'s generated rows, and one COPY that sends them in chunks."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, cast

import psycopg

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def field(value: object) -> str:
    """One field in COPY's text format.

    The common types are told apart by their exact type, and text is escaped only when it holds
    a character to escape (`field_general` is the same without the shortcuts; a test compares
    them on random values).
    """
    kind = type(value)
    if kind is str:
        text = cast(str, value)
    elif value is None:
        return "\\N"
    elif kind is int or kind is float:
        return str(value)  # digits, sign, '.', 'e', 'inf', 'nan': nothing to escape
    elif (kind is list or kind is tuple) and all(type(v) is str for v in cast(list[Any], value)):
        text = _json_strings(tuple(cast(list[str], value)))  # only str: (1,) == (True,)
    else:
        return field_general(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_ESCAPES)
    return text


@functools.lru_cache(maxsize=4096)
def _json_strings(items: tuple[str, ...]) -> str:
    return json.dumps(list(items))


def field_general(value: object) -> str:
    """One field in COPY's text format, by the general rules."""
    if value is None:
        return "\\N"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, list | tuple):
        return json.dumps(list(value)).translate(_ESCAPES)
    return str(value).translate(_ESCAPES)


def copy_lines(conn: psycopg.Connection[Any], table: str, cols: str, lines: Iterator[str]) -> None:
    """COPY these text-format lines into `table`, 5,000 lines a write."""
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
        chunk: list[str] = []
        for line in lines:
            chunk.append(line)
            if len(chunk) >= 5000:
                copy.write("".join(chunk))
                chunk.clear()
        if chunk:
            copy.write("".join(chunk))

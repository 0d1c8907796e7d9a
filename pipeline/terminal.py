"""Text on the operator's terminal and in logs: no control or bidi-override characters.

Names, titles, companies and error excerpts come from subscribers and scraped pages. An ESC
sequence in one of them could recolour, hide or rewrite what the operator sees; U+202E could
make a line read backwards. `SafeConsole` strips them from every string Rich renders (tables
included; Rich's own styling is added after), and `install_log_sanitizing` from every log record,
whoever configured the handlers (the CLI, the scheduler, Scrapy in a crawl process).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.text import Text

from pipeline.sanitize import strip_controls


class SafeConsole(Console):
    """A Rich console that renders every string without control or bidi-override characters."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(strip_controls(text, keep_newlines=True), **kwargs)


def _sanitize_record(record: logging.LogRecord) -> None:
    if getattr(record, "_andon_controls_stripped", False):
        return
    record._andon_controls_stripped = True
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: let the handler report it as usual
        return
    clean = strip_controls(message, keep_newlines=True)
    if clean != message:
        record.msg, record.args = clean, None


class _SanitizingFactory:
    """Wraps the LogRecord factory so every record is cleaned, whichever handler formats it."""

    def __init__(self, inner: Callable[..., logging.LogRecord]) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.inner(*args, **kwargs)
        _sanitize_record(record)
        return record


def install_log_sanitizing() -> None:
    """Strip control characters from every log message from now on (calling it twice is safe)."""
    factory = logging.getLogRecordFactory()
    probe: object = factory
    while probe is not None:
        if isinstance(probe, _SanitizingFactory):
            return
        probe = getattr(probe, "inner", None)
    logging.setLogRecordFactory(_SanitizingFactory(factory))


class SanitizeLogsExtension:
    """Scrapy extension: a crawl process (`andon crawl`, a child of `andon run`) cleans its logs."""

    @classmethod
    def from_crawler(cls, crawler: Any) -> SanitizeLogsExtension:
        install_log_sanitizing()
        return cls()

"""Keep secrets out of logs: SendGrid keys, bearer tokens, URL passwords and link tokens.

Link tokens are the signed ids in /confirm/, /unsubscribe/, /manage/ and /feeds/ URLs and the
operator's `?token=`: whoever reads them can act as the subscriber (or the operator), so the
web server's access log must not keep them either (`with_redaction` for uvicorn's config).
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

REDACTED = "[redacted]"

# (pattern, replacement): SendGrid keys anywhere, the Authorization header python_http_client
# prints at DEBUG, and the password of a user:pass@ URL (SMTP, PostgreSQL, Redis).
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9_\-\.=+/]+"), rf"\1{REDACTED}"),
    (re.compile(r"SG\.[A-Za-z0-9_\-\.]+"), f"SG.{REDACTED}"),
    (re.compile(r"(://[^:/@\s]*:)[^@\s/]+@"), rf"\1{REDACTED}@"),
    # Link tokens in paths; a feed keeps its ".xml" so the line still says what was asked for.
    (re.compile(r"(/feeds/)[A-Za-z0-9_\-.%]+?(\.xml\b)"), rf"\1{REDACTED}\2"),
    (re.compile(r"(/(?:confirm|unsubscribe|manage|feeds)/)[A-Za-z0-9_\-.%]+"), rf"\1{REDACTED}"),
    # ?token=… (the operator page) and any other *token query parameter.
    (re.compile(r"(?i)([?&;][a-z_]*token=)[^&;#\s\"']+"), rf"\1{REDACTED}"),
)
_QUIET_LOGGERS = ("python_http_client",)


def redact(text: str) -> str:
    """The text with every secret pattern replaced."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


def _redact_record(record: logging.LogRecord) -> None:
    if getattr(record, "_andon_redacted", False):
        return
    record._andon_redacted = True
    # Arguments one by one first: formatters that unpack them (uvicorn's access log takes
    # (client, method, path, version, status)) keep working, with the path redacted.
    if isinstance(record.args, tuple):
        record.args = tuple(_redact_value(a) for a in record.args)
    elif isinstance(record.args, Mapping):
        record.args = {k: _redact_value(v) for k, v in record.args.items()}
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    try:
        message = record.getMessage()
    except Exception:
        message = f"{record.msg} {record.args}"
    redacted = redact(message)
    if redacted != message:
        # A secret that only appears once formatted (inside a non-string argument): the
        # formatted text replaces msg % args; other records keep their args for handlers.
        record.msg, record.args = redacted, None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class RedactingFilter(logging.Filter):
    """A handler filter that redacts the record in place and always lets it through."""

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


class _RedactingFactory:
    """Wraps the LogRecord factory so records are redacted however they reach a handler."""

    def __init__(self, inner: Callable[..., logging.LogRecord]) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.inner(*args, **kwargs)
        _redact_record(record)
        return record


def install_log_redaction() -> None:
    """Redact secrets in every log record and keep `python_http_client` above DEBUG.

    A filter goes on each root handler, and the record factory is wrapped so handlers added
    later (by a CLI, uvicorn or pytest) get redacted records as well. Calling it twice is safe.
    """
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _RedactingFactory):
        logging.setLogRecordFactory(_RedactingFactory(factory))
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    for name in _QUIET_LOGGERS:
        quiet = logging.getLogger(name)
        # It prints request headers, Authorization included, at DEBUG.
        if quiet.level < logging.INFO:
            quiet.setLevel(logging.INFO)


def with_redaction(config: Mapping[str, Any]) -> dict[str, Any]:
    """A `logging.config.dictConfig` dict with a `RedactingFilter` on every handler.

    For servers that configure logging themselves (uvicorn's LOGGING_CONFIG, its access log
    included), so their lines are redacted whatever else the process does.
    """
    out = copy.deepcopy(dict(config))
    out.setdefault("filters", {})["andon_redact"] = {"()": f"{__name__}.RedactingFilter"}
    for handler in out.get("handlers", {}).values():
        handler["filters"] = [*handler.get("filters", []), "andon_redact"]
    return out

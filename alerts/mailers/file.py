"""The file mailer: each message as an .eml in an outbox folder, written atomically."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from alerts.mailers.base import BaseMailer, SendResult, TransientSendError
from alerts.message import OutgoingMessage, to_email_message

_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


class FileMailer(BaseMailer):
    """Writes each message as `<outbox>/<UTC timestamp>-<message id>.eml`, atomically."""

    def __init__(self, outbox: Path) -> None:
        self.outbox = Path(outbox)

    def open(self) -> None:
        self.outbox.mkdir(parents=True, exist_ok=True)

    def send(self, msg: OutgoingMessage) -> SendResult:
        self.outbox.mkdir(parents=True, exist_ok=True)
        data = to_email_message(msg).as_bytes()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        safe_id = _UNSAFE_FILENAME.sub("_", msg.message_id.strip("<>"))[:120] or "message"
        final = self.outbox / f"{stamp}-{safe_id}.eml"
        # Write to a temporary name, fsync, then rename: a reader (or a crash) never sees half
        # a message, and a finished .eml is on disk before we report it sent.
        fd, tmp = tempfile.mkstemp(dir=self.outbox, prefix=".", suffix=".eml.tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise TransientSendError(f"cannot write {final}: {exc}") from exc
        _fsync_dir(self.outbox)
        return SendResult(provider_message_id=msg.message_id or None)


def _fsync_dir(path: Path) -> None:
    # The rename itself is durable only once the directory entry is flushed.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

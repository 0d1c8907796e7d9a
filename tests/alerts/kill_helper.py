"""A digest run whose mailer blocks inside one send, so a test can SIGKILL it at that point.

    python -m tests.alerts.kill_helper DB_URL OUTBOX AT SENT_BEFORE_BLOCK {before|after}

The mailer writes `SENT_BEFORE_BLOCK` messages normally; in the next send it prints `blocked`
(one line on stdout) and waits forever, either before the message reaches the outbox
("before": the provider never saw it) or after ("after": the provider accepted it and we die
before recording `sent`, the one ambiguous window).
"""

from __future__ import annotations

import sys
import threading
from datetime import datetime
from pathlib import Path

import db
from alerts.digests import run_digests
from alerts.mailers import FileMailer, SendResult
from alerts.message import OutgoingMessage
from config import Settings

SECRET = "kill-helper-secret-key-for-andon-tests"


class BlockingMailer(FileMailer):
    """A file mailer that stops forever in its (n+1)th send."""

    def __init__(self, outbox: Path, sent_before_block: int, where: str) -> None:
        super().__init__(outbox)
        self.left = sent_before_block
        self.where = where

    def send(self, msg: OutgoingMessage) -> SendResult:
        if self.left > 0:
            self.left -= 1
            return super().send(msg)
        result = super().send(msg) if self.where == "after" else None
        print("blocked", flush=True)
        threading.Event().wait()  # until SIGKILL
        return result or SendResult(None)


def main(argv: list[str]) -> None:
    db_url, outbox, at, sent_before_block, where = argv
    settings = Settings(
        database_url=db_url, outbox=Path(outbox), secret_key=SECRET,
        base_url="https://andon.example", from_email="andon alerts <alerts@andon.example>",
    )  # fmt: skip
    engine = db.make_engine(db_url)
    mailer = BlockingMailer(Path(outbox), int(sent_before_block), where)
    summary = run_digests(settings, engine, at=datetime.fromisoformat(at), mailer=mailer)
    print(f"finished {summary.line()}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

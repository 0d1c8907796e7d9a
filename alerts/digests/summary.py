"""What a digest run reports (its counts and a dry run's plan), and the limits it runs under."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

MAX_ATTEMPTS = 5  # provider attempts per digest before it is marked failed
RESEND_SENDING_AFTER = timedelta(minutes=10)  # longer than any one send with its retries
LATE_COMMIT_SLACK = timedelta(minutes=10)
MAX_WINDOW = timedelta(days=31)  # a search paused for months restarts with the last month
MAX_CONSECUTIVE_TRANSIENT = 3  # the provider is down: stop and leave the rest for the next run

ProgressFn = Callable[[str, int, int], None]  # (stage "claim"|"send", done, total)


def no_progress(_stage: str, _done: int, _total: int) -> None:
    """The progress callback of a run nobody watches."""


@dataclass(frozen=True, slots=True)
class PlannedDigest:
    """A digest a dry run would claim (or a claimed digest it would send)."""

    saved_search_id: int
    email: str
    search_name: str
    period_key: str
    job_count: int
    total_matches: int
    titles: tuple[str, ...] = ()
    resumed: bool = False  # left pending by an earlier run


@dataclass(slots=True)
class DigestSummary:
    """What one run did; `due` counts the searches that fell due, the rest count digests."""

    due: int = 0
    sent: int = 0
    empty: int = 0
    failed: int = 0
    skipped: int = 0  # the subscriber left, or the search was paused, after the claim
    retry: int = 0  # a transient provider error: left pending for the next run
    resumed: int = 0  # digests claimed by earlier runs that this run sent or tried
    waiting: int = 0  # left `sending` less than `resend_sending_after` ago (maybe in flight)
    stopped: str | None = None  # why the run stopped sending early
    planned: list[PlannedDigest] = field(default_factory=list)  # dry run only
    # wall seconds of the two phases, for operators watching a run's length (None: not run)
    claim_s: float | None = None
    send_s: float | None = None

    def line(self) -> str:
        """'due 3, sent 2, empty 1, failed 0', the unusual counts when there are any, and how long
        the claim and send phases took ('; claim 1.2 s, send 0.4 s') after a real run."""
        text = f"due {self.due}, sent {self.sent}, empty {self.empty}, failed {self.failed}"
        extra = [
            f"{n} {label}"
            for n, label in (
                (self.skipped, "skipped"),
                (self.retry, "to retry"),
                (self.resumed, "resumed"),
                (self.waiting, "still sending"),
            )
            if n
        ]
        text += f" ({', '.join(extra)})" if extra else ""
        if self.claim_s is not None and self.send_s is not None:
            text += f"; claim {self.claim_s:.1f} s, send {self.send_s:.1f} s"
        return text

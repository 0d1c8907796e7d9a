"""andon at a deployment's size on PostgreSQL: the daily digest cycle and the listing search.

`python -m bench scale --size full [--part listing|digest|all]`: 1,000,000 postings (COPY), 100,000 subscribers with
150,000 saved searches, in a database of its own on `ANDON_BENCH_POSTGRES_URL` (default
postgresql://postgres@127.0.0.1:5432/test), dropped at the end. Prints DESIGN.md's JSON lines:

- `scale-digest-cycle`: `andon digest` end to end (match, claim, render, send to a loopback SMTP
  sink answering each message after 20 ms) for the day's new postings, against the sum of its
  stages measured alone; with its peak memory;
- `scale-digest-senders`: the send stage with four `andon digest` processes against one;
- `scale-listing`: one line per common /api/jobs query shape, p50/p95 through the web app, SQL
  time with migration 0011's indexes against without them, and `EXPLAIN ANALYZE` in `explain`.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from typing import Any

from bench import scale_digest, scale_listing
from bench.scale_data import Size, create_database, drop_database, load

SIZES = {
    "full": Size(postings=1_000_000, subscribers=100_000, searches=150_000),
    "small": Size(postings=20_000, subscribers=2_000, searches=3_000),
}
LISTING_REQUESTS = {"full": 100, "small": 40}
ROUNDS = 5
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
PARTS = ("all", "listing", "digest")


def main(size: str, part: str = "all") -> None:
    run(size, SIZES[size], os.environ.get("ANDON_BENCH_POSTGRES_URL", DEFAULT_URL), part=part)


def run(
    label: str, size: Size, admin_url: str, requests: int | None = None, part: str = "all"
) -> list[dict]:
    """Build the database, measure `part` (listing, digest or all), print and return the lines.

    The database is dropped at the end.
    """
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, not {part!r}")
    # The moment of the day's digests: this hour, so the listing's `since` reads real time.
    at = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    started = time.perf_counter()
    url = create_database(admin_url)
    lines: list[dict[str, Any]] = []
    loaded: dict[str, float] = {}
    try:
        loaded = load(url, size, at)
        common = {"size": label, "postings": size.postings, "subscribers": size.subscribers,
                  "searches": size.searches, "day_new_postings": size.day_new}  # fmt: skip
        cycle = scale_digest.Cycle(url, at, 0, None)
        # The listing first: it reads the data as loaded, and its lines come out early.
        if part in ("all", "listing"):
            listing = scale_listing.measure(
                url, cycle.settings(), requests or LISTING_REQUESTS.get(label, 40), ROUNDS
            )
            lines += _emit([_listing_line(common, shape) for shape in listing])
        if part in ("all", "digest"):
            lines += _emit(_digest(cycle, common, loaded))
    finally:
        drop_database(admin_url, url)
    print(
        json.dumps(
            {
                "bench": "scale-total",
                "size": label,
                "part": part,
                "total_s": round(time.perf_counter() - started, 1),
                **{k: round(v, 1) for k, v in loaded.items()},
            }
        )
    )
    return lines


def _digest(
    cycle: scale_digest.Cycle, common: dict[str, Any], loaded: dict[str, float]
) -> list[dict[str, Any]]:
    """The digest cycle's lines, against a loopback SMTP sink started for it."""
    cycle.port, cycle.sink = scale_digest.start_sink()
    try:
        digest = scale_digest.measure(cycle)
    finally:
        cycle.sink.terminate()
        cycle.sink.wait()
    return _digest_lines(common, digest, loaded)


def _emit(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for line in lines:
        print(json.dumps(line), flush=True)
    return lines


def _digest_lines(
    common: dict[str, Any], d: dict[str, Any], loaded: dict[str, float]
) -> list[dict[str, Any]]:
    stages = d["stages"]
    stage_sum = stages["match_s"] + stages["claim_s"] + stages["render_s"] + stages["send_s"]
    cycle = {
        "bench": "scale-digest-cycle", **common,
        "ours_s": round(d["cycle_1_s"], 2),
        "baseline": "sum of the stages measured alone (match + claim + render + send)",
        "baseline_s": round(stage_sum, 2),
        "ratio": round(stage_sum / d["cycle_1_s"], 3),
        "cycle_over_stages": round(d["cycle_1_s"] / stage_sum, 3),
        "cycle_4_senders_s": round(d["cycle_4_s"], 2),
        "due_searches": stages["due"], "digests_sent": stages["digests"],
        **{k: round(v, 2) for k, v in stages.items() if k.endswith("_s")},
        "digest_peak_rss_mb": round(d["cycle_1_peak_rss_kb"] / 1024, 1),
        "smtp_delay_ms": 20, "synchronous_commit": "off (this database only)",
        "sent_sample_every": d["sent_sample_every"],
        "sample": "every due search matched and claimed; the digests of 1 in sent_sample_every "
        "saved searches rendered and sent, the others held (a bench trigger)",
        **{k: round(v, 1) for k, v in loaded.items()},
        "method": "ours: one `andon digest --at AT` process, wall time; stages: the same "
        "functions called in this process one stage at a time, one sender",
    }  # fmt: skip
    senders = {
        "bench": "scale-digest-senders", **common,
        "ours_s": round(d["send_4_s"], 2),
        "baseline": "the send phase of the one-sender cycle's `andon digest` process",
        "baseline_s": round(d["send_1_s"], 2),
        "ratio": round(d["send_1_s"] / d["send_4_s"], 3),
        "digests_sent": stages["digests"], "sent_sample_every": d["sent_sample_every"],
        "method": "baseline: the one-sender cycle's send phase, as its summary line reports it; "
        "ours: the digests that cycle sent, pending again (claims and deliveries kept), sent by 4 "
        "`andon digest` processes at once (FOR UPDATE SKIP LOCKED shares the queue), wall time "
        "from their start to the last exit (their start-up and empty claim pass included)",
    }  # fmt: skip
    return [cycle, senders]


def _listing_line(common: dict[str, Any], shape: dict[str, Any]) -> dict[str, Any]:
    ours, base = shape["sql_s"], shape["sql_without_new_indexes_s"]
    return {
        "bench": "scale-listing", "shape": shape["shape"], **common,
        "ours_s": round(ours, 4),
        "baseline": "the same SQL without migration 0011's indexes",
        "baseline_s": round(base, 4),
        "ratio": round(base / ours, 2) if ours else None,
        "http_p50_ms": shape["http_p50_ms"], "http_p95_ms": shape["http_p95_ms"],
        "requests": shape["requests"], "example": shape["example"],
        "open_postings": shape["open_postings"], "rounds": ROUNDS,
        "explain": shape["explain"],
    }  # fmt: skip


__all__ = ["SIZES", "main", "run"]

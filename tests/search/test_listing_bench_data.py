"""`bench scale`'s posting lines: the fast generator writes what the general code would."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from bench import scale_data
from bench.matching import CITIES, _weighted, make_postings
from bench.scale_copy import field, field_general
from bench.scale_data import OPEN_DAYS, Size

AT = datetime(2026, 11, 30, 12, tzinfo=UTC)


def _general_line(pid: int, doc, rng: random.Random, seen: datetime, at: datetime) -> str:
    """The line as the bench wrote it before: every draw through `_weighted`, each field alone."""
    city, region, country, lat, lon, _ = _weighted(rng, CITIES)[0]
    coords: list[float | None] = [None, None]
    if rng.random() < 0.9:
        coords = [lat + rng.uniform(-0.4, 0.4), lon + rng.uniform(-0.4, 0.4)]
    status = "open" if seen > at - timedelta(days=OPEN_DAYS) or rng.random() < 0.1 else "closed"
    last = at - timedelta(hours=rng.randrange(1, 12)) if status == "open" else seen + timedelta(7)
    has_pay = doc.annual_min_usd is not None
    fields = [
        pid, doc.title, doc.company, f"https://jobs.example.com/{pid}", f"{city}, {region[3:]}",
        city, region, country, *coords, doc.workplace, doc.employment_type,
        doc.annual_min_usd, doc.annual_max_usd, "USD" if has_pay else None,
        "year" if has_pay else None, doc.annual_min_usd, doc.annual_max_usd, doc.seniority,
        list(doc.industries), list(doc.skills), doc.description, "", False,
        seen, seen, last, status, last if status == "closed" else None,
        f"company{pid % 997}", f"title{pid % 1009}", f"{city}|{region}".lower(),
    ]  # fmt: skip
    assert len(fields) == len(scale_data.POSTING_COLS.split(","))
    return "\t".join(field_general(v) for v in fields) + "\n"


def test_posting_lines_equal_the_general_code_field_by_field():
    docs = make_postings(random.Random(3), 40)
    fast, slow = random.Random(11), random.Random(11)
    statuses = set()
    for n in range(3000):
        doc = docs[n % len(docs)]
        # open and closed, recent and old, with and without coordinates and salary
        seen = AT - timedelta(days=1, seconds=n * 3_000.5)
        ours = scale_data._posting_line(n + 1, scale_data._static(doc), fast, seen, AT)
        assert ours == _general_line(n + 1, doc, slow, seen, AT), n
        statuses.add((ours.split("\t")[27], ours.split("\t")[8] == "\\N"))
    assert statuses == {(s, n) for s in ("open", "closed") for n in (True, False)}


def test_streams_deal_every_id_once_with_both_statuses():
    size = Size(postings=600, subscribers=1, searches=1, day_new=100)
    lines = [line for stream in scale_data._posting_streams(size, AT) for line in stream]
    ids = sorted(int(line.split("\t", 1)[0]) for line in lines)
    assert ids == list(range(1, 601))
    statuses = {line.split("\t")[27] for line in lines}
    assert statuses == {"open", "closed"}
    assert all(line.count("\t") == len(scale_data.POSTING_COLS.split(",")) - 1 for line in lines)


def test_copy_fields_equal_the_general_code_on_random_values():
    rng = random.Random(5)
    alphabet = ["a", "Z", "é", " ", "\t", "\n", "\r", "\\", "N", '"', "0", "-"]

    def text() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 8)))

    class Label(str):
        pass

    makers = [
        lambda: None, lambda: True, lambda: False, lambda: rng.randrange(-10**6, 10**6),
        lambda: rng.uniform(-1e6, 1e6), lambda: float("nan"), lambda: float("-inf"), text,
        lambda: Label(text()), lambda: AT + timedelta(seconds=rng.uniform(0, 1e7)),
        lambda: [text() for _ in range(rng.randrange(4))],
        lambda: tuple(text() for _ in range(rng.randrange(4))),
        lambda: [rng.choice([1, True, 1.0, "1", None]) for _ in range(rng.randrange(3))],
        lambda: (rng.choice([0, False, 0.0]),), lambda: rng.choice([1, 1.5]) * 10**20,
    ]  # fmt: skip
    for _ in range(20_000):
        value = rng.choice(makers)()
        assert field(value) == field_general(value), repr(value)

"""Places and dates remembered by their text are what reading them anew gives."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

from pipeline import dates, location
from pipeline.location import parse_location

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def _strings(value: object, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            _strings(v, out)
    elif isinstance(value, list):
        for v in value:
            _strings(v, out)


def _fixture_strings() -> list[str]:
    out: list[str] = []
    for path in sorted(FIXTURES.rglob("*.json")):
        try:
            _strings(json.loads(path.read_text(errors="replace")), out)
        except ValueError:
            continue
    return sorted({s for s in out if 0 < len(s) <= 120})


def test_remembered_places_are_the_ones_read_anew() -> None:
    short = _fixture_strings()
    rng = random.Random(5)
    places = ["Dearborn, MI", "Munich, Germany", "Remote - US", "Hybrid - London", "  ", "Toledo"]
    cases = [[s] for s in short] + [
        rng.sample(short + places, rng.randint(1, 3)) for _ in range(800)
    ]
    cases += [[p] for p in places] + [["x" * 700], [], ["London", 12], [" ", "Paris"]]  # type: ignore[list-item]  # odd values a spider may send
    location._place_of_strings.cache_clear()
    for strings in cases * 2:  # read, then remembered
        for hint in (None, "us", "DE"):
            remembered = parse_location(strings, None, country_hint=hint)
            clean = [s for s in strings if isinstance(s, str) and s.strip()]
            fresh = location._parse_location(clean, None, hint.upper() if hint else None)
            assert remembered == fresh, (strings, hint)
            assert parse_location(strings, {}, country_hint=hint) == fresh
    assert location._place_of_strings.cache_info().hits > 1000


def _plain_from_text(text: str, now: datetime) -> datetime | None:
    """`dates._from_text` without its memory, as it read before."""
    m = dates._LOOSE_DATE.match(text)
    if m:
        try:
            return datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), tzinfo=UTC)
        except ValueError:
            return None
    iso = dates._UTC_SUFFIX.sub("", text) if not text.endswith("Z") else text
    try:
        return dates._aware(datetime.fromisoformat(iso.strip()))
    except ValueError:
        pass
    if dates._RFC822.match(text):
        try:
            return dates._aware(parsedate_to_datetime(text))
        except (TypeError, ValueError):
            return None
    return dates._relative(text, now)


def test_remembered_dates_are_the_ones_read_anew() -> None:
    stamps = [s for s in _fixture_strings() if s[:1].isdigit() and len(s) <= 100]
    values = [
        *stamps,
        "2026-11-03T08:00:00-05:00", "2026-5-15", "2026-13-01", "Tue, 03 Nov 2026 08:00:00 GMT",
        "2026-11-03 08:00:00 UTC", "2026-11-03T08:00:00z", "Posted 3 Days Ago", "yesterday",
        "30+ days ago", "garbage", "2026-11-03T08:00:00Z", "2026-11-03 gmt",
    ]  # fmt: skip
    later = NOW + timedelta(days=40)
    dates._absolute.cache_clear()
    for value in values * 2:  # read, then remembered
        text = value.strip()
        for now in (NOW, later):
            assert dates._from_text(text, now) == _plain_from_text(text, now), value
    assert dates._absolute.cache_info().hits > len(values)


def test_remembered_skill_candidates_are_the_ones_worked_out_anew() -> None:
    from pipeline import enrich

    literals = sorted(enrich._SKILL_INDEX.literals)
    rng = random.Random(6)
    sets = [frozenset(rng.sample(literals, rng.randint(0, 8))) for _ in range(300)]
    enrich._candidates_by_literals.clear()
    for present in sets * 2:  # worked out, then remembered
        fresh = [
            (skill, pattern, enrich._SKILL_STARTS[skill])
            for skill, pattern in enrich._SKILLS.items()
            if not present.isdisjoint(enrich._SKILL_LITERALS[skill])
        ]
        assert list(enrich._skills_holding(present)) == fresh
    assert len(enrich._candidates_by_literals) <= len(set(sets))


def test_remembered_workplaces_are_the_ones_read_anew() -> None:
    from pipeline import enrich

    short = _fixture_strings()
    rng = random.Random(9)
    places = ["Hybrid - London", "Remote - US", "On-site, Toledo", "In-office", "Anywhere", "x"]
    hints = [None, "", "remote", "Hybrid", "TELECOMMUTE", "on_site", "unspecified", *places]
    cases = [tuple(rng.sample(short + places, rng.randint(0, 3))) for _ in range(1500)]
    cases += [(p,) for p in places] + [("x" * 700,)]
    enrich._places_workplace.cache_clear()
    enrich._hint_workplace.cache_clear()
    for texts in cases * 2:  # read, then remembered
        assert enrich._places_workplace(texts) == enrich._read_places(texts), texts
    for hint in hints * 2:
        assert enrich._hint_workplace(hint) == enrich._hint_workplace.__wrapped__(hint), hint
    assert enrich._places_workplace.cache_info().hits > 1000

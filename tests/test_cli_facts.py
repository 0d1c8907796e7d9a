"""Plant facts from the command line: `listings --shift/--min-team/--standard`, saved searches."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import db
from pipeline.facts import extract_facts, fact_columns
from pipeline.models import CrawlRun
from pipeline.record import CleanPosting
from pipeline.store import store_batch
from tests.alerts.test_cli_alerts import andon, emls, one_line_error
from tests.factories import posting

NIGHTS = (
    "Supervise the night shift: 3 shift supervisors and 24 associates. "
    "Maintain SQF and HACCP. ISO 9001 experience is a plus."
)
DAYS = "Lead the day shift of 8 operators. GMP plant. Union environment (UAW)."


def _with_facts(**changes: object) -> CleanPosting:
    item = posting(**changes)
    return replace(item, **fact_columns(extract_facts(item.description_text)))


@pytest.fixture
def stored(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    url = f"sqlite:///{tmp_path / 'andon.db'}"
    env = {"ANDON_DATABASE_URL": url, "ANDON_OUTBOX": str(tmp_path / "mail")}
    res = andon("init", cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stderr
    eng = db.make_engine(url)
    with db.session_scope(eng, write=True) as s:
        store_batch(
            s,
            [
                _with_facts(external_id="n", title="Night Supervisor", description_text=NIGHTS),
                _with_facts(
                    external_id="d", title="Day Supervisor", url=None, company="Beta Foods",
                    description_text=DAYS,
                ),
            ],
            now=datetime.now(UTC),
        )  # fmt: skip
    eng.dispose()
    return tmp_path, env


def _titles(folder: Path, env: dict[str, str], *args: str) -> list[str]:
    res = andon("listings", *args, "--format", "json", cwd=folder, env=env)
    assert res.returncode == 0, res.stderr
    return sorted(r["title"] for r in json.loads(res.stdout))


def test_listings_filter_on_shift_team_and_standard(stored) -> None:
    folder, env = stored
    assert _titles(folder, env) == ["Day Supervisor", "Night Supervisor"]
    assert _titles(folder, env, "--shift", "night") == ["Night Supervisor"]
    assert _titles(folder, env, "--shift", "1st", "--shift", "3rd") == [
        "Day Supervisor", "Night Supervisor",
    ]  # fmt: skip
    assert _titles(folder, env, "--min-team", "20") == ["Night Supervisor"]
    assert _titles(folder, env, "--standard", "gmp") == ["Day Supervisor"]
    assert _titles(folder, env, "--standard", "ISO 9001", "--min-team", "5") == ["Night Supervisor"]
    res = andon("listings", "--format", "json", "--shift", "day", cwd=folder, env=env)
    (row,) = json.loads(res.stdout)
    assert row["facts"]["union"] == {"value": "union", "quote": "Union environment (UAW)"}
    assert row["facts"]["team_size"] == {"value": 8, "quote": "Lead the day shift of 8 operators"}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--shift", "lunch"), "unknown shift 'lunch'"),
        (("--standard", "ISO 27001"), "unknown standard 'ISO 27001'"),
        (("--min-team", "0"), "--min-team must be a whole number of people"),
    ],
)
def test_bad_fact_filters_are_one_line_exit_2(stored, args, needle) -> None:
    folder, env = stored
    one_line_error(andon("listings", *args, cwd=folder, env=env), 2, needle)


def test_a_saved_search_keeps_the_fact_filters_and_its_digest_obeys_them(stored) -> None:
    folder, env = stored
    res = andon(
        "subscribe", "pat@example.com", "--confirmed", "--hour", "8", "--shift", "nights",
        "--min-team", "20", "--standard", "HACCP", cwd=folder, env=env,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    listed = andon("searches", "pat@example.com", cwd=folder, env=env)
    assert "3rd shift" in listed.stdout and "standards: HACCP" in listed.stdout
    assert "leads 20+ people" in listed.stdout
    now = datetime.now(UTC)
    at = now.replace(hour=8, minute=0, second=0, microsecond=0)
    if at <= now:
        at += timedelta(days=1)
    eng = db.make_engine(env["ANDON_DATABASE_URL"])
    with db.session_scope(eng, write=True) as s:  # two boards read for this digest, one failing
        for source, status in (("acme", "finished"), ("beta", "failed")):
            s.add(
                CrawlRun(
                    source=source, kind="lever", status=status, started_at=at - timedelta(hours=1)
                )
            )
    eng.dispose()
    sent = andon("digest", "--at", at.isoformat(), cwd=folder, env=env)
    assert sent.returncode == 0, sent.stderr
    (mail,) = emls(folder / "mail")
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Night Supervisor" in text and "Day Supervisor" not in text
    quote = "Supervise the night shift: 3 shift supervisors and 24 associates"
    assert f'3rd shift: "{quote}"' in text and f'leads 27: "{quote}"' in text
    assert 'ISO 9001 (preferred): "ISO 9001 experience is a plus"' in text
    assert (
        "Jobs from 2 boards; 1 could not be read today. Board status: https://andon.example/status"
        in text
    )
    page = mail.get_body(preferencelist=("html",)).get_content()
    assert (
        f'<span class="fact" title="“{quote}”" style="border-bottom: 1px dotted #9ca3af;">leads 27'
        in page
    )
    assert "Jobs from 2 boards; 1 could not be read today" in page
    assert 'href="https://andon.example/status"' in page

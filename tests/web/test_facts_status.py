"""Plant facts on /jobs, /jobs/{id} and /api/jobs; the public /status page and the health counts."""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

import db
from pipeline.board_status import board_health, board_statuses
from pipeline.facts import extract_facts, fact_columns
from pipeline.models import CrawlRun, Posting
from pipeline.record import CleanPosting
from pipeline.store import store_batch
from tests.factories import posting

NIGHTS = (
    "Supervise the night shift: 3 shift supervisors and 24 associates. "
    "Maintain SQF and HACCP. ISO 9001 experience is a plus."
)
NOW = datetime.now(UTC)


def _with_facts(**changes: object) -> CleanPosting:
    item = posting(**changes)
    return replace(item, **fact_columns(extract_facts(item.description_text)))


@pytest.fixture
def stored(engine: Engine) -> None:
    with db.session_scope(engine, write=True) as s:
        store_batch(
            s,
            [
                _with_facts(external_id="n", title="Night Supervisor", description_text=NIGHTS),
                _with_facts(
                    external_id="d", title="Day Supervisor", url=None, company="Beta Foods",
                    description_text="Lead the day shift of 8 operators. GMP plant.",
                ),
            ],
            now=NOW,
        )  # fmt: skip


def _id(engine: Engine, title: str) -> int:
    with db.session_scope(engine) as s:
        return next(p.id for p in s.query(Posting).all() if p.title == title)


@pytest.mark.usefixtures("stored")
def test_job_page_shows_each_fact_with_its_quote_on_hover(client: TestClient, engine) -> None:
    page = client.get(f"/jobs/{_id(engine, 'Night Supervisor')}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "Plant facts" in text
    quote = "Supervise the night shift: 3 shift supervisors and 24 associates"
    assert f'title="“{quote}”">3rd shift</span>' in text
    assert f'title="“{quote}”">leads 27</span>' in text
    assert 'title="“ISO 9001 experience is a plus”">ISO 9001 (preferred)</span>' in text
    listing = html.unescape(client.get("/jobs").text)
    assert f'title="“{quote}”">leads 27</span>' in listing


@pytest.mark.usefixtures("stored")
def test_jobs_page_and_api_filter_on_shift_team_and_standard(client: TestClient) -> None:
    def api(**params: object) -> list[str]:
        response = client.get("/api/jobs", params=params)
        assert response.status_code == 200, response.text
        return sorted(r["title"] for r in response.json())

    assert api() == ["Day Supervisor", "Night Supervisor"]
    assert api(shift="night") == ["Night Supervisor"]
    assert api(min_team=20) == ["Night Supervisor"]
    assert api(standard="GMP") == ["Day Supervisor"]
    assert api(shift=["1st", "3rd"], standard="iso_9001") == ["Night Supervisor"]
    row = client.get("/api/jobs", params={"shift": "1st"}).json()[0]
    assert row["facts"]["team_size"] == {"value": 8, "quote": "Lead the day shift of 8 operators"}
    bad = client.get("/api/jobs", params={"shift": "lunch"})
    assert bad.status_code == 400 and "unknown shift 'lunch'" in bad.json()["detail"]
    assert client.get("/api/jobs", params={"min_team": 0}).status_code == 422
    page = client.get("/jobs", params={"shift": "3rd", "min_team": "20"})
    assert page.status_code == 200
    assert "Night Supervisor" in page.text and "Day Supervisor" not in page.text
    assert 'name="shift" value="3rd" checked' in page.text
    assert 'id="min_team" name="min_team" min="1" max="100000" step="1" value="20"' in page.text


def _run(s, source: str, status: str, started: datetime, message: str | None = None) -> None:
    s.add(
        CrawlRun(
            source=source, kind="greenhouse", started_at=started,
            finished_at=started + timedelta(minutes=3), status=status, message=message,
        )
    )  # fmt: skip


@pytest.fixture
def runs(engine: Engine) -> None:
    with db.session_scope(engine, write=True) as s:
        _run(s, "acme-foods", "finished", NOW - timedelta(hours=30))
        _run(s, "acme-foods", "finished", NOW - timedelta(hours=2))
        _run(s, "beta-dairy", "finished", NOW - timedelta(hours=40))
        _run(
            s, "beta-dairy", "failed", NOW - timedelta(hours=3), "token sk_live_secret at 10.0.0.5"
        )
        _run(s, "gamma", "failed", NOW - timedelta(days=3), "boom")


@pytest.mark.usefixtures("runs")
def test_status_page_is_public_and_shows_no_internals(client: TestClient) -> None:
    page = client.get("/status")
    assert page.status_code == 200
    assert "andon reads 3 job boards; 2 could not be read at their last crawl" in page.text
    rows = page.text.split("<tbody>")[1]
    assert "<td>acme-foods</td><td>greenhouse</td><td>ok</td>" in rows
    assert "<td>beta-dairy</td><td>greenhouse</td><td><strong>failing</strong></td>" in rows
    assert (
        "<td>gamma</td><td>greenhouse</td><td><strong>failing</strong></td><td>never</td>" in rows
    )
    assert "sk_live_secret" not in page.text and "10.0.0.5" not in page.text
    assert "boom" not in page.text


@pytest.mark.usefixtures("runs")
def test_board_statuses_and_the_health_of_a_digest(engine: Engine) -> None:
    with db.session_scope(engine) as s:
        boards = {b.name: b for b in board_statuses(s, at=NOW)}
        assert boards["acme-foods"].ok and not boards["beta-dairy"].ok
        beta_good = boards["beta-dairy"].last_good_at
        assert beta_good is not None
        assert abs(beta_good - (NOW - timedelta(hours=40) + timedelta(minutes=3))) < timedelta(
            seconds=1
        )
        # a daily digest: both boards crawled in its window, one of them failing today
        assert board_health(s, since=NOW - timedelta(days=1), at=NOW).boards == 2
        assert board_health(s, since=NOW - timedelta(days=1), at=NOW).failing == 1
        # a weekly one also counts the board that failed three days ago (not "today")
        weekly = board_health(s, since=NOW - timedelta(days=7), at=NOW)
        assert (weekly.boards, weekly.failing) == (3, 1)

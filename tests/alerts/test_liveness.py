"""Closed jobs in digests, on SQLite and PostgreSQL: "No longer open" across digest periods, the
re-check of old jobs against a loopback source whose per-job API answers 404 for one of them, and
the private-address refusal (the host as written and the addresses its name resolves to)."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy.engine import Engine

import db
from alerts.digests import run_digests
from alerts.liveness import HttpLiveness
from alerts.subscriptions import SearchInput, subscribe
from config import Settings
from pipeline.models import Posting, PostingSource
from pipeline.store import close_postings, store_batch
from tests.factories import posting

SECRET = "test-secret-key-for-andon-liveness"
SUB_AT = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
SEEN = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
RUN1 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
SEEN2 = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
RUN2 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
SEEN3 = datetime(2026, 11, 21, 20, 0, tzinfo=UTC)
RUN3 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        secret_key=SECRET,
        base_url="https://andon.example",
        from_email="andon alerts <alerts@andon.example>",
        outbox=tmp_path / "outbox",
        postal_address="andon, 500 Griswold St, Detroit, MI 48226, USA",
    )


def job(n: int, title: str, **changes: Any) -> Any:
    values: dict[str, Any] = {
        "source": "acme-greenhouse",
        "external_id": f"greenhouse:acme:{n}",
        "url": f"https://boards.greenhouse.io/acme/jobs/{n}",
        "title": title,
        "company": f"Company {n}",
        "description_text": f"Run shift {n} of the line.",
    }
    values.update(changes)
    return posting(**values)


def store(engine: Engine, *items: Any, now: datetime) -> dict[str, int]:
    with db.session_scope(engine) as s:
        result = store_batch(s, list(items), now=now)
    return {ext: pid for (_src, ext), pid in result.posting_ids.items()}


def subscribed(engine: Engine) -> None:
    with db.session_scope(engine) as s:
        subscribe(s, "pat@example.com", SearchInput(query="manager"), confirmed=True, now=SUB_AT)


def texts(settings: Settings) -> list[str]:
    out = []
    for path in sorted(Path(settings.outbox).glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        out.append(msg.get_body(preferencelist=("plain",)).get_content())
    return out


def test_a_closed_job_is_listed_once_under_no_longer_open(settings, engine) -> None:
    ids = store(engine, job(1, "Plant Manager"), job(2, "Production Manager"), now=SEEN)
    subscribed(engine)
    assert run_digests(settings, engine, at=RUN1).sent == 1
    # closed after that digest went out (a crawl saw it gone)
    with db.session_scope(engine) as s:
        close_postings(s, [ids["greenhouse:acme:1"]], now=db.utcnow())
    store(engine, job(3, "Quality Manager"), now=SEEN2)
    assert run_digests(settings, engine, at=RUN2).sent == 1
    store(engine, job(4, "Maintenance Manager"), now=SEEN3)
    assert run_digests(settings, engine, at=RUN3).sent == 1
    first, second, third = texts(settings)
    assert "No longer open" not in first
    gone = second.split("No longer open:")[1].split("--")[0]
    assert "Plant Manager · Company 1 · closed " in gone
    assert "Production Manager" not in gone  # still open
    assert "Quality Manager" in second.split("No longer open:")[0]  # the new job, as usual
    assert "No longer open" not in third and "Plant Manager" not in third  # once only


def test_a_job_closed_before_its_digest_went_out_is_not_announced(settings, engine) -> None:
    ids = store(engine, job(1, "Plant Manager"), job(2, "Production Manager"), now=SEEN)
    subscribed(engine)
    with db.session_scope(engine) as s:  # closed long before: never shown, nothing to take back
        close_postings(s, [ids["greenhouse:acme:1"]], now=RUN1 - timedelta(hours=1))
    assert run_digests(settings, engine, at=RUN1).sent == 1
    store(engine, job(3, "Quality Manager"), now=SEEN2)
    assert run_digests(settings, engine, at=RUN2).sent == 1
    first, second = texts(settings)
    assert "Plant Manager" not in first and "No longer open" not in second


def test_old_jobs_are_rechecked_and_the_gone_one_left_out_and_closed(
    settings, engine, httpserver: HTTPServer, tmp_path: Path
) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[[sources]]\nname = "acme-greenhouse"\nkind = "greenhouse"\nboard = "acme"\n'
        f'base_url = "{httpserver.url_for("/").rstrip("/")}"\nallow_private = true\n',
        encoding="utf-8",
    )
    settings.sources = sources
    # Greenhouse's per-job endpoint (the spider's `liveness_url`), through the entry's base_url
    api = "/v1/boards/acme/jobs"
    httpserver.expect_request(f"{api}/1", method="GET").respond_with_json(
        {"status": 404, "error": "Job not found"}, status=404
    )
    httpserver.expect_request(f"{api}/2", method="GET").respond_with_json({"id": 2}, status=200)
    old = RUN1 - timedelta(days=30)
    ids = store(
        engine,
        job(1, "Plant Manager", posted_at=old),
        job(2, "Production Manager", posted_at=old),
        job(3, "Quality Manager", posted_at=RUN1 - timedelta(days=2)),  # recent: not asked
        now=SEEN,
    )
    subscribed(engine)
    checker = HttpLiveness("andon-tests", pause_s=0)
    assert run_digests(settings, engine, at=RUN1, liveness=checker).sent == 1
    (text,) = texts(settings)
    assert "Production Manager" in text and "Quality Manager" in text
    assert "Plant Manager" not in text
    asked = sorted(r.path for r, _ in httpserver.log)
    assert asked == [f"{api}/1", f"{api}/2"]  # one request per old job, none for new
    assert {r.method for r, _ in httpserver.log} == {"GET"}  # an API is asked as it is read
    assert all(r.headers["User-Agent"] == "andon-tests" for r, _ in httpserver.log)
    with db.session_scope(engine) as s:
        gone = s.get(Posting, ids["greenhouse:acme:1"])
        assert gone is not None and gone.status == "closed" and gone.closed_at is not None
        assert s.get(Posting, ids["greenhouse:acme:2"]).status == "open"
        sightings = {p.external_id: p.status for p in s.query(PostingSource)}
        assert sightings["greenhouse:acme:1"] == "closed"


def test_a_source_not_configured_or_private_is_not_asked(settings, engine, tmp_path) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(  # Ashby has no per-job endpoint: the posting's own (private) URL is it
        '[[sources]]\nname = "other"\nkind = "ashby"\nboard = "other"\ncompany = "Other"\n',
        encoding="utf-8",
    )
    settings.sources = sources
    store(
        engine,
        job(1, "Plant Manager", posted_at=RUN1 - timedelta(days=30)),
        job(2, "Production Manager", source="other", external_id="ashby:other:2",
            url="http://127.0.0.1:9/other/jobs/2", posted_at=RUN1 - timedelta(days=30)),
        now=SEEN,
    )  # fmt: skip
    subscribed(engine)

    class Refuse:
        def gone(self, checks):  # the network is never reached
            raise AssertionError(f"asked about {checks}")

    assert run_digests(settings, engine, at=RUN1, liveness=Refuse()).sent == 1


class Record:
    """A checker that answers "all open" and keeps what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def gone(self, checks):
        self.asked += [c.url for c in checks]
        return set()


@pytest.mark.parametrize(
    ("addresses", "allow_private", "asked"),
    [
        (["10.20.30.40"], False, False),  # a name for a private address: refused
        (["93.184.216.34", "127.0.0.1"], False, False),  # any internal address refuses
        (["fd00::7"], False, False),
        (["93.184.216.34"], False, True),  # public: asked
        (["10.20.30.40"], True, True),  # the entry allows private addresses
    ],
)
def test_a_name_resolving_to_a_private_address_is_asked_only_with_allow_private(
    settings, engine, tmp_path, monkeypatch, addresses, allow_private, asked
) -> None:
    from alerts import liveness

    looked_up: list[str] = []

    def resolve(host: str) -> list[str]:
        looked_up.append(host)
        return addresses

    monkeypatch.setattr(liveness, "resolve", resolve)
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[[sources]]\nname = "acme-greenhouse"\nkind = "greenhouse"\nboard = "acme"\n'
        'base_url = "http://jobs-mirror.example.com:8080"\n'
        + ("allow_private = true\n" if allow_private else ""),
        encoding="utf-8",
    )
    settings.sources = sources
    store(
        engine,
        job(1, "Plant Manager", posted_at=RUN1 - timedelta(days=30)),
        job(2, "Production Manager", posted_at=RUN1 - timedelta(days=30)),
        now=SEEN,
    )
    subscribed(engine)
    checker = Record()
    assert run_digests(settings, engine, at=RUN1, liveness=checker).sent == 1
    expected = [f"http://jobs-mirror.example.com:8080/v1/boards/acme/jobs/{n}" for n in (1, 2)]
    assert sorted(checker.asked) == (expected if asked else [])
    # one lookup per host, and none when the entry allows private addresses anyway
    assert looked_up == ([] if allow_private else ["jobs-mirror.example.com"])


def test_internal_host_reads_the_host_as_written_before_any_lookup(monkeypatch) -> None:
    from alerts import liveness

    def no_lookup(host: str) -> list[str]:
        raise AssertionError(f"looked up {host}")

    monkeypatch.setattr(liveness, "resolve", no_lookup)
    assert liveness.internal_host("127.0.0.1") is not None
    assert liveness.internal_host("0x7f000001") is not None
    assert liveness.internal_host("intranet.local") is not None


def test_a_name_that_does_not_resolve_is_left_to_the_request(monkeypatch) -> None:
    from alerts import liveness

    def fail(host: str) -> list[str]:
        raise OSError("Name or service not known")

    monkeypatch.setattr(liveness, "resolve", fail)
    assert liveness.internal_host("jobs.example.com") is None


def test_a_kind_without_a_job_endpoint_is_asked_at_the_posting_url_with_head(
    settings, engine, httpserver: HTTPServer, tmp_path: Path
) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[[sources]]\nname = "acme-ashby"\nkind = "ashby"\nboard = "Acme"\ncompany = "Acme"\n'
        f'base_url = "{httpserver.url_for("/").rstrip("/")}"\nallow_private = true\n',
        encoding="utf-8",
    )
    settings.sources = sources
    httpserver.expect_request("/Acme/a1", method="HEAD").respond_with_data("", status=410)
    # HEAD not allowed here: asked again with GET, which says the job is still there
    httpserver.expect_request("/Acme/a2", method="HEAD").respond_with_data("", status=405)
    httpserver.expect_request("/Acme/a2", method="GET").respond_with_data("<html>", status=200)
    old = RUN1 - timedelta(days=20)
    ids = store(
        engine,
        *(
            job(n, title, source="acme-ashby", external_id=f"ashby:Acme:a{n}",
                url=f"https://jobs.ashbyhq.com/Acme/a{n}", posted_at=old)
            for n, title in ((1, "Plant Manager"), (2, "Production Manager"))
        ),
        now=SEEN,
    )  # fmt: skip
    subscribed(engine)
    checker = HttpLiveness("andon-tests", pause_s=0)
    assert run_digests(settings, engine, at=RUN1, liveness=checker).sent == 1
    (text,) = texts(settings)
    assert "Production Manager" in text and "Plant Manager" not in text
    assert [(r.method, r.path) for r, _ in httpserver.log] == [
        ("HEAD", "/Acme/a1"), ("HEAD", "/Acme/a2"), ("GET", "/Acme/a2"),
    ]  # fmt: skip
    with db.session_scope(engine) as s:
        assert s.get(Posting, ids["ashby:Acme:a1"]).status == "closed"
        assert s.get(Posting, ids["ashby:Acme:a2"]).status == "open"

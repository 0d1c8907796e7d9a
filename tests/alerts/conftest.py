"""Fixtures for the email tests: settings, a sample digest, and a real SMTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from alerts.render import DigestContext, DigestJob
from config import MARKET_PAY_USD, Settings

CVE_2024_6923 = "=?UTF-8?Q?x=0ABcc:_evil@x.com?="


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        secret_key="test-secret-key-for-andon-emails",
        base_url="https://andon.example",
        from_email="andon alerts <alerts@andon.example>",
        outbox=tmp_path / "outbox",
        postal_address="andon, 1 Main Street, Anytown, MI 48000, USA",
        list_id="andon job alerts <alerts.andon.example>",
        unsubscribe_mailto="unsubscribe@andon.example",
    )


def make_job(n: int = 1, **overrides: Any) -> DigestJob:
    values: dict[str, Any] = {
        "posting_id": n,
        "title": "Production Manager",
        "company": "Acme Foods",
        "url": f"https://jobs.acme.example/{n}",
        "location_text": "Dearborn, MI",
        "workplace": "onsite",
        "salary": {
            "min": 95000,
            "max": 120000,
            "currency": "USD",
            "period": "year",
            "annual_min_usd": 95000,
            "annual_max_usd": 120000,
        },
        "seniority": "manager",
        "posted_at": "2026-11-20T00:00:00Z",
        "attribution": None,
        "source_url": None,
        "why": "title matches “production manager”; within 25 miles of Detroit",
        "market_pay": MARKET_PAY_USD["manager"],
        "market_label": "US median for production managers: $90,000 (BLS OES May 2023)",
    }
    values.update(overrides)
    return DigestJob(**values)


def make_context(jobs: list[DigestJob] | None = None, **overrides: Any) -> DigestContext:
    values: dict[str, Any] = {
        "to_email": "pat@example.com",
        "subscriber_name": "Pat",
        "search_name": "Plant manager Midwest",
        "cadence": "daily",
        "jobs": jobs if jobs is not None else [make_job(1), make_job(2, title="Plant Manager")],
        "total_matches": 12,
        "more_url": "https://andon.example/searches/7/matches",
        "manage_url": "https://andon.example/manage/MANAGE-TOKEN",
        "unsubscribe_url": "https://andon.example/unsubscribe/UNSUB-TOKEN",
        "feed_url": "https://andon.example/feed/FEED-TOKEN",
        "postal_address": "andon, 1 Main Street, Anytown, MI 48000, USA",
        "period_label": "since yesterday",
    }
    values.update(overrides)
    return DigestContext(**values)


@pytest.fixture
def digest_context() -> DigestContext:
    return make_context()


@dataclass
class RecordingHandler:
    """An aiosmtpd handler that records messages and connections and can refuse on demand."""

    messages: list[bytes] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    connections: set[tuple[str, int]] = field(default_factory=set)
    data_replies: list[str] = field(default_factory=list)  # consumed one per DATA; empty = 250

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        self.connections.add(session.peer)
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_replies:
            return self.data_replies.pop(0)
        self.messages.append(envelope.original_content or envelope.content)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 2.0.0 Ok: queued"


class LoopbackController(Controller):
    """aiosmtpd 1.4's Controller cannot self-test a port=0 server; read the bound port first."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]  # asyncio's Server has it
        super()._trigger_server()


@pytest.fixture
def smtp_server() -> Iterator[tuple[LoopbackController, RecordingHandler]]:
    handler = RecordingHandler()
    controller = LoopbackController(handler, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()

"""Fixtures for the web tests: the app over a real database, a file outbox, and email helpers."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette asks for httpx2 instead of httpx under its TestClient; the project pins httpx
    # (dev group), so silence that one warning here rather than in every web test.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from config import Settings
from web.app import create_app

SECRET = "test-secret-key-for-the-andon-web-app"
OPERATOR_TOKEN = "operator-token-for-tests"


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


@pytest.fixture
def settings(db_url: str, outbox: Path) -> Settings:
    return Settings(
        database_url=db_url,
        outbox=outbox,
        base_url="http://testserver",
        secret_key=SECRET,
        operator_token=OPERATOR_TOKEN,
        from_email="andon alerts <alerts@andon.example>",
    )


@pytest.fixture
def app(settings: Settings, engine: Engine):
    return create_app(settings, engine)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def form_token(client: TestClient, path: str = "/") -> str:
    """GET a page (which sets the CSRF cookie) and return its form's token."""
    response = client.get(path)
    assert response.status_code == 200, response.text
    return csrf_of(response.text)


def subscribe_form(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "email": "pat@example.com",
        "query": '"production manager"',
        "location": "",
        "within": "",
        "min_salary": "",
        "cadence": "daily",
        "hour": "7",
        "weekday": "mon",
        "timezone": "America/Detroit",
        "name": "",
    }
    data.update(changes)
    return data


def subscribe(client: TestClient, **changes: object):
    token = form_token(client)
    return client.post(
        "/subscribe",
        data={"csrf_token": token, **subscribe_form(**changes)},
        follow_redirects=False,
    )


def messages(outbox: Path) -> list[EmailMessage]:
    if not outbox.exists():
        return []
    parser = BytesParser(policy=policy.default)
    return [
        parser.parsebytes(p.read_bytes())
        for p in sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    ]


def link_in(message: EmailMessage, path_prefix: str) -> str:
    """The first http(s) link in the text part whose path starts with `path_prefix`."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    match = re.search(r"https?://[^\s<>\"]+" + re.escape(path_prefix) + r"[^\s<>\"]+", text)
    assert match, f"no {path_prefix} link in:\n{text}"
    return match.group(0)

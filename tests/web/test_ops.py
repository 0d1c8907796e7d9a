"""/healthz for monitors and /ops behind the operator token."""

from __future__ import annotations

from fastapi.testclient import TestClient

import db
from config import Settings
from pipeline.store import store_batch
from tests.factories import posting
from tests.web.conftest import OPERATOR_TOKEN
from web.app import create_app


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database(settings: Settings, tmp_path) -> None:
    broken = db.make_engine(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    with TestClient(create_app(settings, broken)) as c:
        response = c.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_ops_needs_the_operator_token(client: TestClient, engine) -> None:
    with db.session_scope(engine) as s:
        store_batch(
            s,
            [
                posting(external_id="1"),
                posting(external_id="2", title="Plant Manager", url="https://x.example/2"),
            ],
        )
    assert client.get("/ops").status_code == 401
    assert client.get("/ops", params={"token": "wrong"}).status_code == 401
    assert client.get("/ops", headers={"Authorization": "Bearer wrong"}).status_code == 401
    by_header = client.get("/ops", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
    assert by_header.status_code == 200
    assert "Postings: <strong>2</strong> open" in by_header.text
    assert "No crawl yet" in by_header.text
    assert by_header.headers["cache-control"] == "no-store"
    assert client.get("/ops", params={"token": OPERATOR_TOKEN}).status_code == 200


def test_ops_is_off_without_a_token(settings: Settings, engine) -> None:
    settings.operator_token = None
    with TestClient(create_app(settings, engine)) as c:
        assert c.get("/ops", params={"token": ""}).status_code == 404

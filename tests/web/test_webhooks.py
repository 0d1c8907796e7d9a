"""The SendGrid Event Webhook: real ECDSA P-256 signatures, suppression, replay and duplicates."""

from __future__ import annotations

import base64
import json
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import col

import db
from alerts.models import Subscriber
from alerts.subscriptions import SearchInput
from alerts.subscriptions import subscribe as service_subscribe
from config import Settings
from web.app import create_app
from web.models import WebhookEvent
from web.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER


@pytest.fixture
def private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def hook(settings: Settings, engine, private_key) -> TestClient:
    der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    settings.sendgrid_webhook_public_key = base64.b64encode(der).decode()
    return TestClient(create_app(settings, engine))


def signed(private_key, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = private_key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        SIGNATURE_HEADER: base64.b64encode(signature).decode(),
        TIMESTAMP_HEADER: stamp,
        "Content-Type": "application/json",
    }


def event(kind: str, email: str, n: int = 1, **extra: object) -> dict[str, object]:
    return {
        "email": email, "timestamp": int(time.time()), "event": kind,
        "sg_event_id": f"ev-{kind}-{n}", "sg_message_id": f"msg{n}.filter0001", **extra,
    }  # fmt: skip


def people(engine, *emails: str) -> None:
    with db.session_scope(engine) as s:
        for email in emails:
            service_subscribe(s, email, SearchInput(), confirmed=True)


def status(engine, email: str) -> str:
    with db.session_scope(engine) as s:
        return s.execute(
            select(col(Subscriber.status)).where(col(Subscriber.email) == email)
        ).scalar_one()


def test_signed_events_suppress_the_right_addresses(hook: TestClient, engine, private_key) -> None:
    people(engine, "b@example.com", "s@example.com", "u@example.com", "g@example.com",
           "d@example.com", "ok@example.com", "blk@example.com")  # fmt: skip
    events = [
        event("bounce", "b@example.com", 1, type="bounce", reason="550 5.1.1 no such user"),
        event("spamreport", "s@example.com", 2),
        event("unsubscribe", "u@example.com", 3),
        event("group_unsubscribe", "g@example.com", 4, asm_group_id=1),
        event("dropped", "d@example.com", 5, reason="Bounced Address"),
        event("delivered", "ok@example.com", 6, andon_digest_id="42"),
        event("processed", "ok@example.com", 7, andon_digest_id="42"),
        event("bounce", "blk@example.com", 8, type="blocked", reason="421 try later"),
        event("bounce", "stranger@example.com", 9, type="bounce"),
    ]
    body = json.dumps(events).encode()
    response = hook.post("/webhooks/sendgrid", content=body, headers=signed(private_key, body))
    assert response.status_code == 200, response.text
    assert response.json() == {"received": 9, "recorded": 4, "duplicates": 0, "suppressed": 5}
    assert status(engine, "b@example.com") == "bounced"
    assert status(engine, "s@example.com") == "complained"
    assert status(engine, "u@example.com") == "unsubscribed"
    assert status(engine, "g@example.com") == "unsubscribed"
    assert status(engine, "d@example.com") == "bounced"
    assert status(engine, "ok@example.com") == "active"
    assert status(engine, "blk@example.com") == "active"  # a block is not a dead address
    with db.session_scope(engine) as s:
        reason = s.execute(
            select(col(Subscriber.status_reason)).where(col(Subscriber.email) == "b@example.com")
        ).scalar_one()
        digest_ids = s.execute(
            select(col(WebhookEvent.digest_id)).where(col(WebhookEvent.event) == "delivered")
        ).scalar_one()
    assert reason == "sendgrid bounce: 550 5.1.1 no such user"
    assert digest_ids == 42

    # The same batch again (SendGrid retries) changes nothing and is counted as duplicates,
    # even when SendGrid changed the event ids.
    again = [dict(e, sg_event_id=f"new-{i}") for i, e in enumerate(events)]
    body = json.dumps(again).encode()
    response = hook.post("/webhooks/sendgrid", content=body, headers=signed(private_key, body))
    assert response.json()["duplicates"] == 9
    with db.session_scope(engine) as s:
        assert s.execute(select(func.count()).select_from(WebhookEvent)).scalar_one() == 9


def test_unsigned_badly_signed_and_stale_requests_get_403(
    hook: TestClient, engine, private_key
) -> None:
    people(engine, "b@example.com")
    body = json.dumps([event("bounce", "b@example.com")]).encode()
    other_key = ec.generate_private_key(ec.SECP256R1())
    headers = signed(private_key, body)
    cases = [
        {"Content-Type": "application/json"},  # unsigned
        signed(other_key, body),  # signed by someone else
        {**headers, SIGNATURE_HEADER: "not base64!!"},
        {**headers, TIMESTAMP_HEADER: str(int(headers[TIMESTAMP_HEADER]) + 1)},  # moved stamp
        signed(private_key, body, timestamp=int(time.time()) - 11 * 60),  # replayed later
    ]
    for h in cases:
        assert hook.post("/webhooks/sendgrid", content=body, headers=h).status_code == 403
    # A body changed after signing.
    tampered = body.replace(b"b@example.com", b"x@example.com")
    assert hook.post("/webhooks/sendgrid", content=tampered, headers=headers).status_code == 403
    assert status(engine, "b@example.com") == "active"
    assert hook.post("/webhooks/sendgrid", content=body, headers=headers).status_code == 200
    assert status(engine, "b@example.com") == "bounced"


def test_a_signed_body_that_is_not_an_event_list_is_a_400(hook: TestClient, private_key) -> None:
    for body in (b"{not json", b'{"event": "bounce"}'):
        response = hook.post("/webhooks/sendgrid", content=body, headers=signed(private_key, body))
        assert response.status_code == 400


def test_an_old_event_does_not_undo_a_later_confirmation(
    hook: TestClient, engine, private_key
) -> None:
    people(engine, "back@example.com")
    stale = event("bounce", "back@example.com", timestamp=int(time.time()) - 3 * 24 * 3600)
    body = json.dumps([stale]).encode()
    response = hook.post("/webhooks/sendgrid", content=body, headers=signed(private_key, body))
    assert response.json()["suppressed"] == 0
    assert status(engine, "back@example.com") == "active"


def test_webhook_without_a_configured_key_refuses(client: TestClient) -> None:
    response = client.post("/webhooks/sendgrid", content=b"[]")
    assert response.status_code == 503

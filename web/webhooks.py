"""The SendGrid Event Webhook: verify the signature, then suppress addresses that bounce or complain.

SendGrid signs `timestamp + raw body` with ECDSA P-256 / SHA-256; the public key (base64 DER)
comes from `settings.sendgrid_webhook_public_key`. The check runs on the raw bytes before any
JSON parsing, with `cryptography` directly: the SDK's `EventWebhook` re-encodes a decoded str
and checks no timestamp age, so a captured request could be replayed forever.

Events arrive in batches, more than once and out of order. Each event is recorded once
(`web_webhook_events`, unique on `sg_event_id` and on a fingerprint that survives a changed
event id); a duplicate changes nothing. Suppression is by address and never undoes a later
consent: an event older than the subscriber's confirmation is recorded but not applied.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from alerts import subscriptions as subs
from db import session_scope, utcnow
from web.models import WebhookEvent
from web.pages import state

log = logging.getLogger(__name__)
router = APIRouter()

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
MAX_AGE_S = 600  # SendGrid sends at once; anything older is a replay or a very late retry
MAX_BODY = 5 * 1024 * 1024
CLOCK_SKEW = timedelta(minutes=5)

STOPPED = ("unsubscribed", "bounced", "complained")
# event → the status it puts the address in
SUPPRESSING = {
    "bounce": "bounced",
    "dropped": "bounced",
    "spamreport": "complained",
    "unsubscribe": "unsubscribed",
    "group_unsubscribe": "unsubscribed",
}
# Drops caused by our message rather than the address: the address stays.
_CONTENT_DROPS = ("spam content", "invalid smtpapi", "exceeded max content", "invalid")


class SignatureError(Exception):
    """The request is not provably from SendGrid (missing, stale or bad signature)."""


@functools.lru_cache(maxsize=4)
def _public_key(encoded: str) -> ec.EllipticCurvePublicKey:
    try:
        key = load_der_public_key(base64.b64decode(encoded.strip(), validate=True))
    except (ValueError, binascii.Error) as exc:
        raise ValueError("sendgrid_webhook_public_key is not a base64 DER public key") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValueError("sendgrid_webhook_public_key is not an ECDSA P-256 key")
    return key


def verify(
    public_key: str, signature: str | None, timestamp: str | None, body: bytes, *, now: float
) -> None:
    """Raise `SignatureError` unless `signature` signs `timestamp + body` and is fresh."""
    if not signature or not timestamp:
        raise SignatureError("missing signature headers")
    try:
        sent_at = int(timestamp.strip())
    except ValueError:
        raise SignatureError("bad timestamp") from None
    if abs(now - sent_at) > MAX_AGE_S:
        raise SignatureError("stale timestamp")
    try:
        raw_signature = base64.b64decode(signature.strip(), validate=True)
        _public_key(public_key).verify(
            raw_signature, timestamp.strip().encode() + body, ec.ECDSA(hashes.SHA256())
        )
    except (InvalidSignature, binascii.Error, ValueError):
        # One answer for a malformed and a wrong signature: nothing to learn from the difference.
        raise SignatureError("bad signature") from None


@router.post("/webhooks/sendgrid", include_in_schema=False)
async def sendgrid_events(request: Request) -> JSONResponse:
    web = state(request)
    key = web.settings.sendgrid_webhook_public_key
    if not key:
        return JSONResponse({"detail": "the SendGrid webhook is not configured"}, status_code=503)
    body = await request.body()
    if len(body) > MAX_BODY:
        return JSONResponse({"detail": "body too large"}, status_code=413)
    try:
        verify(
            key,
            request.headers.get(SIGNATURE_HEADER),
            request.headers.get(TIMESTAMP_HEADER),
            body,
            now=utcnow().timestamp(),
        )
    except SignatureError as exc:
        log.warning("refused a SendGrid webhook request: %s", exc)
        return JSONResponse({"detail": "signature verification failed"}, status_code=403)
    try:
        events = json.loads(body)
    except ValueError:
        return JSONResponse({"detail": "the body is not JSON"}, status_code=400)
    if not isinstance(events, list):
        return JSONResponse({"detail": "expected a JSON array of events"}, status_code=400)
    # The database work is synchronous; run it off the event loop.
    counts = await run_in_threadpool(_handle_all, web.engine, events)
    return JSONResponse(counts)


def _handle_all(engine: Any, events: list[Any]) -> dict[str, int]:
    counts = {"received": len(events), "recorded": 0, "duplicates": 0, "suppressed": 0}
    with session_scope(engine, write=True) as session:
        for event in events:
            if not isinstance(event, dict) or not isinstance(event.get("event"), str):
                continue
            outcome = handle_event(session, event)
            counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def _fingerprint(event: dict[str, Any]) -> str:
    parts = [
        str(event.get(k, "")) for k in ("sg_message_id", "event", "timestamp", "email", "type")
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _record(session: Session, event: dict[str, Any], action: str | None) -> bool:
    """Insert the event once; False when it was seen before (either key)."""
    fingerprint = _fingerprint(event)
    event_id = str(event.get("sg_event_id") or f"fp:{fingerprint}")[:200]
    digest_id = event.get("andon_digest_id")
    try:
        digest_id = int(digest_id) if digest_id is not None else None
    except (TypeError, ValueError):
        digest_id = None
    message_id = event.get("sg_message_id")
    table = WebhookEvent.__table__  # type: ignore[attr-defined]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(table)
        .values(
            provider="sendgrid",
            event_id=event_id,
            fingerprint=fingerprint,
            event=str(event["event"])[:40],
            digest_id=digest_id,
            provider_message_id=str(message_id)[:200] if message_id else None,
            action=action,
            received_at=utcnow(),
        )
        .on_conflict_do_nothing()
        .returning(table.c.id)
    )
    return session.execute(stmt).first() is not None


def _suppression(event: dict[str, Any]) -> str | None:
    name = event["event"]
    status = SUPPRESSING.get(name)
    if status is None:
        return None
    if name == "bounce" and str(event.get("type", "")).lower() == "blocked":
        return None  # a block is the receiver's temporary refusal, not a dead address
    if name == "dropped":
        reason = str(event.get("reason", "")).lower()
        if "spam reporting" in reason:
            return "complained"
        if "unsubscribed" in reason:
            return "unsubscribed"
        if "bounced" not in reason and any(r in reason for r in _CONTENT_DROPS):
            return None
    return status


def handle_event(session: Session, event: dict[str, Any]) -> str:
    """Record one event and apply it; returns "recorded", "suppressed" or "duplicates"."""
    status = _suppression(event)
    sub = None
    if status is not None and isinstance(event.get("email"), str):
        try:
            sub = subs.subscriber_by_email(session, event["email"])
        except subs.SubscriptionError:
            sub = None
    apply = sub is not None and status is not None and _applies(sub, status, event)
    if not _record(session, event, status if apply else None):
        return "duplicates"
    if not apply:
        return "recorded"
    assert sub is not None
    assert status is not None
    reason = f"sendgrid {event['event']}"
    detail = event.get("reason") or event.get("type")
    if detail:
        reason += f": {str(detail)[:200]}"
    subs.unsubscribe(session, sub, reason=reason, status=status)
    return "suppressed"


def _applies(sub: Any, status: str, event: dict[str, Any]) -> bool:
    if sub.status in STOPPED and not (status == "complained" and sub.status != "complained"):
        return False  # already stopped; only a complaint outranks another stop
    when = event.get("timestamp")
    if sub.confirmed_at is not None and isinstance(when, int | float):
        # A late retry of an event from before the address (re)confirmed must not undo that
        # consent. Event times are whole seconds on SendGrid's clock: allow for skew.
        happened = datetime.fromtimestamp(when, UTC)
        return happened >= sub.confirmed_at - CLOCK_SKEW
    return True

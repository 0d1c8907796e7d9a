"""Signed, URL-safe tokens for the links in emails: confirm, unsubscribe, manage, feed, feedback."""

from __future__ import annotations

import binascii
import functools
import hashlib
import hmac
import json
import zlib
from collections.abc import Sequence
from typing import Literal

from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

Purpose = Literal["confirm", "unsubscribe", "manage", "feed", "feedback"]
TokenValue = str | int

# One salt per purpose: a token minted for one link can never be replayed as another
# (a leaked feed token must not unsubscribe anybody). Bump the version to retire them all.
SALTS: dict[str, str] = {
    "confirm": "andon.confirm.v1",
    "unsubscribe": "andon.unsubscribe.v1",
    "manage": "andon.manage.v1",
    "feed": "andon.feed.v1",
    "feedback": "andon.feedback.v1",
}

# Same as Settings.confirm_max_age_s; used when a caller reads a confirm token without a max age,
# so a confirmation link can never be valid forever by accident.
DEFAULT_CONFIRM_MAX_AGE_S = 7 * 24 * 3600


class BadToken(Exception):
    """A token that cannot be used; `reason` is "expired" or "invalid"."""

    def __init__(self, reason: Literal["expired", "invalid"]) -> None:
        super().__init__(reason)
        self.reason = reason


def _serializer(secret: str | Sequence[str], purpose: str) -> URLSafeTimedSerializer:
    if purpose not in SALTS:
        raise ValueError(f"unknown token purpose {purpose!r}; expected one of {sorted(SALTS)}")
    # A list of keys (oldest first, newest last) lets an operator rotate the secret
    # without breaking the unsubscribe links already sitting in inboxes.
    keys = [secret] if isinstance(secret, str) else list(secret)
    if not keys or not all(keys):
        raise ValueError("token secret is empty")
    return URLSafeTimedSerializer(keys, salt=SALTS[purpose])


def make_token(secret: str | Sequence[str], purpose: Purpose, value: TokenValue) -> str:
    """Sign an opaque id (subscriber or saved-search id, never an email address) for one purpose.

    The token is itsdangerous's `URLSafeTimedSerializer` token, built here without its layers
    (a digest signs ~60 links): JSON, base64, timestamp, HMAC-SHA1 under the key itsdangerous
    derives. A payload zlib would shrink goes through itsdangerous itself.
    """
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise TypeError("token value must be an opaque str or int id")
    keys = (secret,) if isinstance(secret, str) else tuple(secret)
    key = _signing_key(keys, purpose)
    payload = _compact_json(value).encode()
    if len(zlib.compress(payload)) < len(payload) - 1:
        return str(_serializer(secret, purpose).dumps(value))
    return _signed(key, payload, _CLOCK.get_timestamp())


# itsdangerous's clock (`TimestampSigner.get_timestamp`), so what patches it patches ours too
_CLOCK = TimestampSigner(b"clock only: never signs")
# json.dumps(value, ensure_ascii=False, separators=(",", ":")), without a new encoder per call
_compact_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _b64(data: bytes) -> bytes:
    """`base64.urlsafe_b64encode(data).rstrip(b"=")`, without its two Python layers."""
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=")


@functools.lru_cache(maxsize=4)
def _stamp(timestamp: int) -> bytes:
    """The token's timestamp part: the same for every token signed within one second."""
    return _b64(timestamp.to_bytes(8, "big").lstrip(b"\x00"))


def _signed(key: bytes, payload: bytes, timestamp: int) -> str:
    value = _b64(payload) + b"." + _stamp(timestamp)
    signature = hmac.digest(key, value, "sha1")  # itsdangerous's default, in one C call
    return (value + b"." + _b64(signature)).decode("ascii")


@functools.lru_cache(maxsize=64)
def _signing_key(keys: tuple[str, ...], purpose: str) -> bytes:
    """The key itsdangerous signs with: django-concat of the salt and the newest secret."""
    _serializer(list(keys), purpose)  # the same checks: known purpose, no empty key
    material = SALTS[purpose].encode() + b"signer" + keys[-1].encode()
    return hashlib.sha1(material).digest()  # noqa: S324  # itsdangerous's derivation, as it is


def read_token(
    secret: str | Sequence[str],
    purpose: Purpose,
    token: str,
    max_age: int | None = None,
) -> TokenValue:
    """Return the id signed in `token`, or raise `BadToken("expired" | "invalid")`.

    Confirm tokens always expire (`max_age`, default 7 days: pass `settings.confirm_max_age_s`);
    unsubscribe tokens never do (CAN-SPAM wants opt-out links to work for at least 30 days, and
    a digest can sit unread for longer); manage and feed tokens expire only if `max_age` is given.
    """
    if purpose == "unsubscribe" and max_age is not None:
        raise ValueError("unsubscribe tokens never expire; do not pass max_age")
    if purpose == "confirm" and max_age is None:
        max_age = DEFAULT_CONFIRM_MAX_AGE_S
    serializer = _serializer(secret, purpose)
    try:
        value = serializer.loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise BadToken("expired") from exc
    except BadData as exc:
        raise BadToken("invalid") from exc
    except (TypeError, ValueError) as exc:
        # Garbage that is not even a string decodes to these rather than BadData.
        raise BadToken("invalid") from exc
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise BadToken("invalid")
    return value

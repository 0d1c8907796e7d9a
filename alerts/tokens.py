"""Signed, URL-safe tokens for the links in emails: confirm, unsubscribe, manage, feed, feedback."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

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
    """Sign an opaque id (subscriber or saved-search id, never an email address) for one purpose."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise TypeError("token value must be an opaque str or int id")
    return str(_serializer(secret, purpose).dumps(value))


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

"""CSRF protection for the web forms: a signed double-submit token.

The browser holds a random value in a cookie; each form carries that value signed with the
server secret (and a timestamp). A POST passes when the cookie is present and the form's token
unsigns to exactly the cookie's value within `MAX_AGE_S`. A cross-site page can make the
browser send the cookie but cannot read it, and cannot forge the signed field without the
secret even if it manages to plant a cookie of its own (cookie tossing from a sibling domain).

Not used for the RFC 8058 one-click unsubscribe and the confirm button: those arrive without
cookies (mail clients) and are authorised by their signed link token alone.
"""

from __future__ import annotations

import hmac
import secrets

from itsdangerous import BadData, TimestampSigner

COOKIE = "andon_csrf"
FIELD = "csrf_token"
SALT = "andon.csrf.v1"
MAX_AGE_S = 24 * 3600


class CsrfError(Exception):
    """The form's CSRF token is missing, stale or does not belong to this browser."""


def new_cookie_value() -> str:
    return secrets.token_urlsafe(24)


def form_token(secret: str, cookie_value: str) -> str:
    return TimestampSigner(secret, salt=SALT).sign(cookie_value).decode("ascii")


def check(secret: str, cookie_value: str | None, token: str | None) -> None:
    """Raise `CsrfError` unless `token` is this cookie's value, signed by us, not too old."""
    if not cookie_value or not token:
        raise CsrfError("the form is missing its security token")
    try:
        signed_value = TimestampSigner(secret, salt=SALT).unsign(token, max_age=MAX_AGE_S)
    except BadData:
        raise CsrfError("the form's security token is invalid or expired") from None
    if not hmac.compare_digest(signed_value, cookie_value.encode("ascii", "replace")):
        raise CsrfError("the form's security token does not match this browser")

"""Signed link tokens: round trips, tampering, expiry of confirm links, unsubscribe never expiring."""

from __future__ import annotations

import pytest
from itsdangerous.timed import TimestampSigner

from alerts.tokens import BadToken, make_token, read_token

SECRET = "test-secret-key-for-andon-tokens"
DAY = 24 * 3600


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The signing clock, settable: [now]."""
    now = [1_800_000_000]
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now[0])
    return now


@pytest.mark.parametrize("purpose", ["confirm", "unsubscribe", "manage", "feed"])
@pytest.mark.parametrize("value", [42, "ss_7f3a9c"])
def test_round_trip(purpose: str, value: int | str) -> None:
    token = make_token(SECRET, purpose, value)  # type: ignore[arg-type]
    assert read_token(SECRET, purpose, token) == value  # type: ignore[arg-type]
    assert isinstance(read_token(SECRET, purpose, token), type(value))  # type: ignore[arg-type]


def test_token_is_url_safe_and_carries_no_email() -> None:
    token = make_token(SECRET, "unsubscribe", 42)
    assert all(c.isalnum() or c in "-_." for c in token)
    assert "@" not in token


def test_tampered_token_is_invalid() -> None:
    token = make_token(SECRET, "unsubscribe", 42)
    payload, _, signature = token.rpartition(".")
    # Flip a middle character: the last base64 character may only carry padding bits, so
    # changing it can decode to the same signature bytes (the test failed on such tokens).
    mid = len(signature) // 2
    flipped = signature[:mid] + ("A" if signature[mid] != "A" else "B") + signature[mid + 1 :]
    for bad in (f"{payload}.{flipped}", token[1:], token + "x", "", "not-a-token", "a.b.c"):
        with pytest.raises(BadToken) as caught:
            read_token(SECRET, "unsubscribe", bad)
        assert caught.value.reason == "invalid"


def test_wrong_secret_is_invalid() -> None:
    token = make_token(SECRET, "manage", 42)
    with pytest.raises(BadToken, match="invalid"):
        read_token("another-secret", "manage", token)


def test_purposes_do_not_mix() -> None:
    feed = make_token(SECRET, "feed", 42)
    with pytest.raises(BadToken, match="invalid"):
        read_token(SECRET, "unsubscribe", feed)


def test_rotated_secret_still_reads_old_tokens() -> None:
    old = make_token("old-secret", "unsubscribe", 42)
    assert read_token(["old-secret", "new-secret"], "unsubscribe", old) == 42
    new = make_token(["old-secret", "new-secret"], "unsubscribe", 43)
    assert read_token("new-secret", "unsubscribe", new) == 43


def test_confirm_expires(clock: list[int]) -> None:
    token = make_token(SECRET, "confirm", 42)
    clock[0] += 7 * DAY - 1
    assert read_token(SECRET, "confirm", token, max_age=7 * DAY) == 42
    clock[0] += 2
    with pytest.raises(BadToken) as caught:
        read_token(SECRET, "confirm", token, max_age=7 * DAY)
    assert caught.value.reason == "expired"


def test_confirm_expires_by_default(clock: list[int]) -> None:
    token = make_token(SECRET, "confirm", 42)
    clock[0] += 8 * DAY
    with pytest.raises(BadToken, match="expired"):
        read_token(SECRET, "confirm", token)


def test_unsubscribe_never_expires(clock: list[int]) -> None:
    token = make_token(SECRET, "unsubscribe", 42)
    clock[0] += 3 * 365 * DAY  # far beyond CAN-SPAM's 30 days
    assert read_token(SECRET, "unsubscribe", token) == 42
    with pytest.raises(ValueError, match="never expire"):
        read_token(SECRET, "unsubscribe", token, max_age=30 * DAY)


def test_unknown_purpose_and_bad_values() -> None:
    with pytest.raises(ValueError, match="unknown token purpose"):
        make_token(SECRET, "login", 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        make_token(SECRET, "feed", {"email": "pat@example.com"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="secret"):
        make_token("", "feed", 1)

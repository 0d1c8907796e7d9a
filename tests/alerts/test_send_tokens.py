"""`make_token` builds itsdangerous's token itself: the same text as `URLSafeTimedSerializer`."""

from __future__ import annotations

import pytest
from itsdangerous import TimestampSigner

from alerts.tokens import SALTS, Purpose, _serializer, make_token, read_token

NOW = 1_800_000_000


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: NOW)


@pytest.mark.parametrize("secret", ["a-long-secret-key-0123456789", ["old-key", "new-key"]])
@pytest.mark.parametrize("purpose", sorted(SALTS))
@pytest.mark.parametrize(
    "value", [0, 7, 2**40, -3, "ss_7f3a9c", "12.34.5678.not_relevant", "é ü “x”", "x" * 300]
)
def test_make_token_is_the_itsdangerous_token(
    clock: None, secret: str | list[str], purpose: Purpose, value: int | str
) -> None:
    token = make_token(secret, purpose, value)
    assert token == _serializer(secret, purpose).dumps(value)
    assert read_token(secret, purpose, token, max_age=60 if purpose == "confirm" else None) == value


def test_the_newest_key_signs_and_the_old_one_still_reads(clock: None) -> None:
    token = make_token(["old-key", "new-key"], "feed", 9)
    assert token == make_token("new-key", "feed", 9) != make_token("old-key", "feed", 9)
    assert read_token(["new-key"], "feed", token) == 9


def test_the_same_checks_as_itsdangerous_path() -> None:
    with pytest.raises(ValueError, match="empty"):
        make_token("", "feed", 1)
    with pytest.raises(ValueError, match="empty"):
        make_token([], "feed", 1)
    with pytest.raises(ValueError, match="unknown token purpose"):
        make_token("k", "nope", 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        make_token("k", "feed", True)

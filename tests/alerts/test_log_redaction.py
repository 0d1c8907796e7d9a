"""Link tokens never reach a log line: the redaction patterns, and `andon serve`'s access log."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from alerts.logredact import REDACTED, RedactingFilter, redact, with_redaction
from alerts.tokens import make_token
from tests.waiting import Proc

PROJECT = Path(__file__).resolve().parents[2]
SECRET = "log-redaction-test-secret-key-for-andon"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('"GET /manage/InRo.aGV-sbG8_x HTTP/1.1" 200', f'"GET /manage/{REDACTED} HTTP/1.1" 200'),
        ("POST /manage/abc.def/searches/3/pause", f"POST /manage/{REDACTED}/searches/3/pause"),
        ("GET /unsubscribe/abc.def-_g", f"GET /unsubscribe/{REDACTED}"),
        ("GET /confirm/MTIz.Zm9v.YmFy", f"GET /confirm/{REDACTED}"),
        ("GET /feeds/MTIz.Zm9v.YmFy.xml", f"GET /feeds/{REDACTED}.xml"),
        ("GET /ops?token=op-s3cret&x=1", f"GET /ops?token={REDACTED}&x=1"),
        ("GET /ops?x=1&token=op-s3cret", f"GET /ops?x=1&token={REDACTED}"),
        ("GET /jobs?q=plant+manager&within=50", "GET /jobs?q=plant+manager&within=50"),
    ],
)
def test_link_tokens_are_redacted(line: str, expected: str) -> None:
    assert redact(line) == expected


def test_tuple_args_keep_their_shape_for_formatters_that_unpack_them() -> None:
    # uvicorn's AccessFormatter unpacks (client, method, path, version, status).
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/manage/abc.def", "1.1", 200), None,
    )  # fmt: skip
    assert RedactingFilter().filter(record)
    assert record.args == ("127.0.0.1:5000", "GET", f"/manage/{REDACTED}", "1.1", 200)
    assert "abc.def" not in record.getMessage()


def test_with_redaction_filters_every_handler() -> None:
    config = {"version": 1, "handlers": {"a": {"class": "logging.StreamHandler"}, "b": {}}}
    out = with_redaction(config)
    assert all("andon_redact" in h["filters"] for h in out["handlers"].values())
    # the caller's dict is left alone
    assert "filters" not in config["handlers"]["a"]  # type: ignore[index]  # a dict of dicts


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_andon_serve_access_log_has_no_tokens(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANDON_")}
    env.update(
        PYTHONPATH=str(PROJECT),
        ANDON_DATABASE_URL=f"sqlite:///{tmp_path / 'andon.db'}",
        ANDON_SECRET_KEY=SECRET,
        ANDON_OPERATOR_TOKEN="operator-token-never-logged",
    )
    cli = [sys.executable, "-m", "cli"]
    subprocess.run([*cli, "init"], cwd=tmp_path, env=env, check=True, capture_output=True)
    port = _free_port()
    proc = Proc([*cli, "serve", "--port", str(port)], env, tmp_path, merge=True)
    try:
        proc.wait_for(f"running on http://127.0.0.1:{port}", timeout=60)
        manage = make_token(SECRET, "manage", 1)
        feed = make_token(SECRET, "feed", 1)
        base = f"http://127.0.0.1:{port}"
        for path in (
            f"/manage/{manage}",
            f"/feeds/{feed}.xml",
            "/ops?token=operator-token-never-logged",
        ):
            httpx.get(base + path, timeout=10)
    finally:
        proc.popen.terminate()
    text = proc.output(timeout=30)
    assert f'"GET /manage/{REDACTED} HTTP/1.1"' in text
    assert f'"GET /feeds/{REDACTED}.xml HTTP/1.1"' in text
    assert f'"GET /ops?token={REDACTED} HTTP/1.1"' in text
    for secret in (manage, feed, "operator-token-never-logged"):
        assert secret not in text

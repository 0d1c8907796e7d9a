"""Mailers against real loopback servers: the outbox folder, aiosmtpd, and a fake SendGrid API."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from alerts.logredact import install_log_redaction
from alerts.mailers import (
    FileMailer,
    Mailer,
    MailerAuthError,
    MailerConfigError,
    PermanentSendError,
    SendGridMailer,
    SmtpMailer,
    TransientSendError,
    mail_problem,
    make_mailer,
)
from alerts.message import OutgoingMessage, build_message
from alerts.render import render_digest
from config import Settings
from tests.alerts.conftest import LoopbackController, RecordingHandler, make_context

SEND_PATH = "/v3/mail/send"
API_KEY = "SG.test-key_ABCDEFGHIJ.klmnopqrstuvwxyz-0123456789"


@pytest.fixture
def digest(settings: Settings) -> OutgoingMessage:
    ctx = make_context()
    return build_message(
        settings,
        to=ctx.to_email,
        rendered=render_digest(ctx),
        unsubscribe_url=ctx.unsubscribe_url,
        digest_id=123,
    )


def second(settings: Settings) -> OutgoingMessage:
    ctx = make_context(to_email="sam@example.com", search_name="Production director")
    return build_message(
        settings, to=ctx.to_email, rendered=render_digest(ctx), unsubscribe_url=ctx.unsubscribe_url
    )


# --- file --------------------------------------------------------------------------------------


def test_file_mailer_writes_a_parseable_eml(tmp_path: Path, digest: OutgoingMessage) -> None:
    outbox = tmp_path / "outbox"
    with FileMailer(outbox) as mailer:
        assert isinstance(mailer, Mailer)
        result = mailer.send(digest)
    files = list(outbox.iterdir())
    assert len(files) == 1
    eml = files[0]
    assert eml.suffix == ".eml"
    assert digest.message_id.strip("<>").split("@")[0] in eml.name
    assert result.provider_message_id == digest.message_id
    parsed = message_from_bytes(eml.read_bytes(), policy=default_policy)
    assert parsed["Message-ID"] == digest.message_id
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed.get_content_type() == "multipart/alternative"


def test_file_mailer_keeps_every_message(
    tmp_path: Path, settings: Settings, digest: OutgoingMessage
) -> None:
    mailer = FileMailer(tmp_path / "outbox")
    for msg in (digest, second(settings), digest):
        mailer.send(msg)
    names = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    assert len(names) == 3
    assert not [n for n in names if n.endswith(".tmp")]


# --- SMTP --------------------------------------------------------------------------------------


def smtp_url(controller: LoopbackController, query: str = "") -> str:
    return f"smtp://127.0.0.1:{controller.port}{query}"


def test_smtp_sends_two_messages_over_one_connection(
    smtp_server: tuple[LoopbackController, RecordingHandler],
    settings: Settings,
    digest: OutgoingMessage,
) -> None:
    controller, handler = smtp_server
    with SmtpMailer(smtp_url(controller), timeout=5) as mailer:
        first = mailer.send(digest)
        mailer.send(second(settings))
    assert len(handler.connections) == 1
    assert handler.envelopes == [
        ("alerts@andon.example", ["pat@example.com"]),
        ("alerts@andon.example", ["sam@example.com"]),
    ]
    assert first.provider_message_id == digest.message_id
    parsed = message_from_bytes(handler.messages[0], policy=default_policy)
    assert parsed["Message-ID"] == digest.message_id
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]


def test_smtp_connects_lazily_and_again_after_close(
    smtp_server: tuple[LoopbackController, RecordingHandler], digest: OutgoingMessage
) -> None:
    controller, handler = smtp_server
    mailer = SmtpMailer(smtp_url(controller), timeout=5)
    with mailer:
        pass
    assert handler.connections == set()
    for _ in range(2):
        with mailer:
            mailer.send(digest)
    assert len(handler.connections) == 2
    assert len(handler.messages) == 2


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ("550 5.1.1 No such user here", PermanentSendError),
        ("554 5.7.1 Message rejected as spam", PermanentSendError),
        ("451 4.3.0 Try again later", TransientSendError),
        ("452 4.2.2 Mailbox full", TransientSendError),
    ],
)
def test_smtp_reply_codes(
    smtp_server: tuple[LoopbackController, RecordingHandler],
    settings: Settings,
    digest: OutgoingMessage,
    reply: str,
    error: type[Exception],
) -> None:
    controller, handler = smtp_server
    handler.data_replies.append(reply)
    with SmtpMailer(smtp_url(controller), timeout=5) as mailer:
        with pytest.raises(error) as caught:
            mailer.send(digest)
        assert reply.split(" ", 1)[1] in str(caught.value)
        # The session survives a refused message: the next one goes over the same connection.
        mailer.send(second(settings))
    assert len(handler.connections) == 1
    assert len(handler.messages) == 1


def test_smtp_starttls_required_but_not_offered(
    smtp_server: tuple[LoopbackController, RecordingHandler], digest: OutgoingMessage
) -> None:
    controller, _ = smtp_server
    mailer = SmtpMailer(smtp_url(controller, "?starttls=required"), timeout=5)
    with mailer, pytest.raises(MailerAuthError, match="STARTTLS"):
        mailer.send(digest)


def test_smtp_connection_refused_is_transient(digest: OutgoingMessage) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port now.
    mailer = SmtpMailer(f"smtp://127.0.0.1:{port}", timeout=5)
    with mailer, pytest.raises(TransientSendError, match="cannot connect"):
        mailer.send(digest)


@pytest.fixture
def auth_smtp_server() -> Iterator[tuple[LoopbackController, RecordingHandler]]:
    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"andon",
            b"s3cret",
        )
        return AuthResult(success=ok, handled=False)

    handler = RecordingHandler()
    controller = LoopbackController(
        handler, hostname="127.0.0.1", port=0, authenticator=authenticator, auth_require_tls=False
    )
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


def test_smtp_login(
    auth_smtp_server: tuple[LoopbackController, RecordingHandler], digest: OutgoingMessage
) -> None:
    controller, handler = auth_smtp_server
    with SmtpMailer(f"smtp://andon:s3cret@127.0.0.1:{controller.port}", timeout=5) as mailer:
        mailer.send(digest)
    assert len(handler.messages) == 1
    wrong = SmtpMailer(f"smtp://andon:wrong@127.0.0.1:{controller.port}", timeout=5)
    assert "wrong" not in repr(wrong)
    with wrong, pytest.raises(MailerAuthError, match="login refused"):
        wrong.send(digest)


def test_smtp_url_errors() -> None:
    for bad in ("http://host:25", "smtp://", "smtp://host:notaport", "smtp://host?starttls=maybe"):
        with pytest.raises(MailerConfigError):
            SmtpMailer(bad)


# --- SendGrid ----------------------------------------------------------------------------------


class NoSleep:
    """Injected in place of time.sleep: records the waits, never blocks."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def sendgrid(httpserver: HTTPServer, sleep: NoSleep | None = None, **kwargs: Any) -> SendGridMailer:
    return SendGridMailer(
        API_KEY,
        host=httpserver.url_for("/").rstrip("/"),
        timeout=5,
        sleep=sleep or NoSleep(),
        clock=lambda: 1_900_000_000.0,
        jitter=lambda: 0.0,
        **kwargs,
    )


def accepted(message_id: str = "sg-msg-id-1") -> Response:
    return Response(status=202, headers={"X-Message-Id": message_id})


def test_sendgrid_request_body_and_auth(httpserver: HTTPServer, digest: OutgoingMessage) -> None:
    httpserver.expect_ordered_request(SEND_PATH, method="POST").respond_with_response(
        accepted("abc123")
    )
    with sendgrid(httpserver) as mailer:
        result = mailer.send(digest)
    assert result.provider_message_id == "abc123"
    request: Request = httpserver.log[0][0]
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["Content-Type"] == "application/json"
    body = json.loads(request.get_data())
    assert body["personalizations"] == [{"to": [{"email": "pat@example.com"}]}]
    assert body["from"] == {"email": "alerts@andon.example", "name": "andon alerts"}
    assert body["subject"] == "12 new production jobs for “Plant manager Midwest”"
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    assert "Production Manager" in body["content"][0]["value"]
    assert body["content"][1]["value"].startswith("<!DOCTYPE html>")
    assert body["custom_args"] == {"andon_kind": "digest", "andon_digest_id": "123"}
    assert body["categories"] == ["andon-digest"]
    headers = body["headers"]
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"].startswith(
        "<https://andon.example/unsubscribe/UNSUB-TOKEN>, <mailto:"
    )
    assert headers["List-Id"] == "andon job alerts <alerts.andon.example>"
    assert headers["Message-ID"] == digest.message_id
    assert "Date" not in headers
    assert body["tracking_settings"]["click_tracking"]["enable"] is False


def test_sendgrid_429_waits_for_rate_limit_reset(
    httpserver: HTTPServer, digest: OutgoingMessage
) -> None:
    sleep = NoSleep()
    httpserver.expect_ordered_request(SEND_PATH, method="POST").respond_with_response(
        Response(status=429, headers={"X-RateLimit-Reset": "1900000007"},
                 response='{"errors":[{"message":"too many requests"}]}')
    )  # fmt: skip
    httpserver.expect_ordered_request(SEND_PATH, method="POST").respond_with_response(
        accepted("after-429")
    )
    with sendgrid(httpserver, sleep) as mailer:
        assert mailer.send(digest).provider_message_id == "after-429"
    assert sleep.waits == [7.0]
    assert len(httpserver.log) == 2
    httpserver.check_assertions()


def test_sendgrid_429_wait_is_capped(httpserver: HTTPServer, digest: OutgoingMessage) -> None:
    sleep = NoSleep()
    httpserver.expect_ordered_request(SEND_PATH).respond_with_response(
        Response(status=429, headers={"X-RateLimit-Reset": "1900099999"})
    )
    httpserver.expect_ordered_request(SEND_PATH).respond_with_response(accepted())
    sendgrid(httpserver, sleep, backoff_cap=30.0).send(digest)
    assert sleep.waits == [30.0]


def test_sendgrid_5xx_is_retried_with_backoff(
    httpserver: HTTPServer, digest: OutgoingMessage
) -> None:
    sleep = NoSleep()
    httpserver.expect_ordered_request(SEND_PATH).respond_with_data("oops", status=500)
    httpserver.expect_ordered_request(SEND_PATH).respond_with_data("unavailable", status=503)
    httpserver.expect_ordered_request(SEND_PATH).respond_with_response(accepted("after-5xx"))
    mailer = sendgrid(httpserver, sleep, backoff_base=2.0)
    assert mailer.send(digest).provider_message_id == "after-5xx"
    # Exponential with (zeroed) jitter: half of 2 s, then half of 4 s.
    assert sleep.waits == [1.0, 2.0]
    httpserver.check_assertions()


def test_sendgrid_gives_up_after_max_attempts(
    httpserver: HTTPServer, digest: OutgoingMessage
) -> None:
    sleep = NoSleep()
    httpserver.expect_request(SEND_PATH).respond_with_data("down", status=502)
    with pytest.raises(TransientSendError, match="after 3 attempts"):
        sendgrid(httpserver, sleep, max_attempts=3).send(digest)
    assert len(httpserver.log) == 3
    assert len(sleep.waits) == 2


def test_sendgrid_timeout_is_retried(httpserver: HTTPServer, digest: OutgoingMessage) -> None:
    release = threading.Event()

    def slow(request: Request) -> Response:
        # Holds the first request past the client's timeout; the injected sleep releases it.
        release.wait(5)
        return accepted("too-late")

    sleep_calls: list[float] = []

    def sleep(seconds: float) -> None:
        sleep_calls.append(seconds)
        release.set()

    httpserver.expect_ordered_request(SEND_PATH).respond_with_handler(slow)
    httpserver.expect_ordered_request(SEND_PATH).respond_with_response(accepted("second-try"))
    mailer = SendGridMailer(
        API_KEY,
        host=httpserver.url_for("/").rstrip("/"),
        timeout=0.2,
        sleep=sleep,
        jitter=lambda: 0.0,
    )
    assert mailer.send(digest).provider_message_id == "second-try"
    assert len(sleep_calls) == 1


def test_sendgrid_400_is_permanent_with_provider_message(
    httpserver: HTTPServer, digest: OutgoingMessage
) -> None:
    sleep = NoSleep()
    httpserver.expect_request(SEND_PATH).respond_with_json(
        {"errors": [{"message": "Invalid from", "field": "from.email"}]}, status=400
    )
    with pytest.raises(PermanentSendError, match="Invalid from"):
        sendgrid(httpserver, sleep).send(digest)
    assert len(httpserver.log) == 1
    assert sleep.waits == []


def test_sendgrid_413_is_permanent(httpserver: HTTPServer, digest: OutgoingMessage) -> None:
    httpserver.expect_request(SEND_PATH).respond_with_data("payload too large", status=413)
    with pytest.raises(PermanentSendError, match="413"):
        sendgrid(httpserver).send(digest)


@pytest.mark.parametrize("status", [401, 403])
def test_sendgrid_auth_errors_stop_the_run(
    httpserver: HTTPServer, digest: OutgoingMessage, status: int
) -> None:
    httpserver.expect_request(SEND_PATH).respond_with_json(
        {"errors": [{"message": "The provided authorization grant is invalid"}]}, status=status
    )
    with pytest.raises(MailerAuthError, match="authorization grant") as caught:
        sendgrid(httpserver).send(digest)
    assert API_KEY not in str(caught.value)
    assert len(httpserver.log) == 1


def test_sendgrid_client_logs_no_key(
    httpserver: HTTPServer,
    digest: OutgoingMessage,
    caplog: pytest.LogCaptureFixture,
    restore_logging: None,
) -> None:
    caplog.set_level(logging.DEBUG)
    install_log_redaction()
    assert logging.getLogger("python_http_client").getEffectiveLevel() >= logging.INFO
    httpserver.expect_request(SEND_PATH).respond_with_response(accepted())
    sendgrid(httpserver).send(digest)
    assert "Authorization" not in caplog.text
    assert API_KEY not in caplog.text
    # Even with that logger forced back to DEBUG, the key is redacted.
    logging.getLogger("python_http_client").setLevel(logging.DEBUG)
    sendgrid(httpserver).send(digest)
    assert "HEADERS:" in caplog.text
    assert "'Bearer [redacted]'" in caplog.text
    assert API_KEY not in caplog.text
    assert "test-key_ABCDEFGHIJ" not in caplog.text


def test_redaction_of_messages_args_and_urls(
    caplog: pytest.LogCaptureFixture, restore_logging: None
) -> None:
    install_log_redaction()
    install_log_redaction()  # idempotent
    log = logging.getLogger("andon.test")
    with caplog.at_level(logging.DEBUG):
        log.debug("key is %s", API_KEY)
        log.debug(f"inline {API_KEY} and smtp://andon:s3cret@mail.example:587")
        log.info("postgresql://user:pa55@db.example/andon ok; Authorization: Bearer abc.def")
        try:
            raise RuntimeError(f"failed with {API_KEY}")
        except RuntimeError:
            log.exception("send failed")
    assert API_KEY not in caplog.text
    assert "s3cret" not in caplog.text
    assert "pa55" not in caplog.text
    assert "abc.def" not in caplog.text
    assert "key is SG.[redacted]" in caplog.text
    assert "smtp://andon:[redacted]@mail.example:587" in caplog.text
    assert "RuntimeError: failed with SG.[redacted]" in caplog.text


@pytest.fixture
def restore_logging() -> Iterator[None]:
    factory = logging.getLogRecordFactory()
    quiet = logging.getLogger("python_http_client")
    level = quiet.level
    root_filters = {h: list(h.filters) for h in logging.getLogger().handlers}
    yield
    logging.setLogRecordFactory(factory)
    quiet.setLevel(level)
    for handler, filters in root_filters.items():
        handler.filters[:] = filters


# --- choosing ----------------------------------------------------------------------------------


def test_make_mailer(tmp_path: Path) -> None:
    base: dict[str, Any] = {
        "secret_key": "x",
        "outbox": tmp_path,
        "postal_address": "andon, 1 Real St, Detroit",
    }
    assert isinstance(make_mailer(Settings(**base)), FileMailer)
    smtp = make_mailer(Settings(**base, mailer="smtp", smtp_url="smtp://u:p@mail.example:587"))
    assert isinstance(smtp, SmtpMailer)
    assert smtp.target.port == 587
    sg = make_mailer(
        Settings(
            **base, mailer="sendgrid", sendgrid_api_key=API_KEY, sendgrid_host="http://127.0.0.1:9"
        )
    )
    assert isinstance(sg, SendGridMailer)
    assert API_KEY not in repr(sg)
    with pytest.raises(MailerConfigError, match="ANDON_SMTP_URL"):
        make_mailer(Settings(**base, mailer="smtp"))
    with pytest.raises(MailerConfigError, match="ANDON_SENDGRID_API_KEY"):
        make_mailer(Settings(**base, mailer="sendgrid"))


@pytest.mark.parametrize(
    "extra",
    [
        {"mailer": "smtp", "smtp_url": "smtp://u:p@mail.example:587"},
        {"mailer": "sendgrid", "sendgrid_api_key": API_KEY},
    ],
)
@pytest.mark.parametrize("postal", [None, "", "   "])
def test_real_mailers_refuse_to_start_without_a_postal_address(
    tmp_path: Path, extra: dict[str, Any], postal: str | None
) -> None:
    settings = Settings(secret_key="x", outbox=tmp_path, postal_address=postal, **extra)
    with pytest.raises(MailerConfigError, match="without ANDON_POSTAL_ADDRESS") as refused:
        make_mailer(settings)
    assert "\n" not in str(refused.value)
    assert mail_problem(settings) == str(refused.value)
    # The file mailer writes to a folder, not to inboxes: its placeholder is marked as one.
    file_settings = Settings(secret_key="x", outbox=tmp_path, postal_address=postal)
    assert mail_problem(file_settings) is None
    assert file_settings.postal_line().startswith("[placeholder postal address")
    assert "Anytown" not in file_settings.postal_line()


def test_sendgrid_body_is_header_safe(httpserver: HTTPServer, digest: OutgoingMessage) -> None:
    # The sendgrid client forwards CR/LF in a subject unchanged; the mailer must not.
    digest.subject = "Jobs\r\nBcc: evil@x.com =?UTF-8?Q?x=0ABcc:_evil@x.com?="
    digest.headers["List-Id"] = "andon\r\nBcc: evil@x.com"
    body = sendgrid(httpserver).request_body(digest)
    assert body["subject"] == "Jobs Bcc: evil@x.com"
    assert body["headers"]["List-Id"] == "andon Bcc: evil@x.com"

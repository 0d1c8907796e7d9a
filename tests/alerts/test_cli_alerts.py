"""`andon subscribe`, `searches`, `unsubscribe` and `digest` as an operator runs them: real processes."""

from __future__ import annotations

import email
import email.policy
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import db
from pipeline.store import store_batch
from tests.factories import posting

PROJECT = Path(__file__).resolve().parents[2]
SECRET = "cli-test-secret-key-for-andon-alerts"


def andon(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ANDON_")}
    full_env.update(
        {"ANDON_SECRET_KEY": SECRET, "ANDON_BASE_URL": "https://andon.example", "COLUMNS": "250"}
    )
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=cwd,
        env={**full_env, "PYTHONPATH": str(PROJECT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def emls(folder: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted(folder.glob("*.eml"))
    ]


def one_line_error(res: subprocess.CompletedProcess[str], code: int, needle: str) -> None:
    assert res.returncode == code, (res.stdout, res.stderr)
    assert needle in res.stderr
    assert "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    res = andon("init", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    return tmp_path


def test_subscribe_a_new_address_sends_the_confirmation_and_a_second_search_changes_nothing(folder):
    res = andon("subscribe", "pat@Example.COM", "--query", '"plant manager"', "--location", "Toledo, OH",
                "--within", "30", "--cadence", "weekly", "--weekday", "tue", "--timezone", "America/New_York",
                cwd=folder)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "subscribed pat@example.com" in res.stdout
    assert "subscriber pending" in res.stdout
    assert "within 30 mi of Toledo, OH" in res.stdout
    assert "weekly on Tue at 08:00 America/New_York" in res.stdout
    [confirm] = emls(folder / "outbox")
    assert confirm["To"] == "pat@example.com"
    assert (
        "https://andon.example/confirm/"
        in confirm.get_body(preferencelist=("plain",)).get_content()
    )
    again = andon("subscribe", "pat@example.com", "--query", "supervisor", cwd=folder)
    assert again.returncode == 0, again.stderr
    assert "added a search for pat@example.com" in again.stdout
    assert "still waiting for the subscriber to confirm" in again.stdout
    assert len(emls(folder / "outbox")) == 1


def test_subscribe_twice_keeps_a_confirmed_subscriber_confirmed(folder):
    first = andon("subscribe", "sam@example.com", "--confirmed", "--query", "plant", cwd=folder)
    assert first.returncode == 0, first.stderr
    assert "subscriber active" in first.stdout
    second = andon("subscribe", "sam@example.com", "--query", "supervisor", "--skill", "lean",
                   "--seniority", "supervisor", "--name", "Lean sups", cwd=folder)  # fmt: skip
    assert second.returncode == 0, second.stderr
    assert "added a search for sam@example.com" in second.stdout
    assert "subscriber active" in second.stdout
    assert not (folder / "outbox").exists()  # no confirmation either time
    listed = andon("searches", "sam@example.com", cwd=folder)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count("sam@example.com") == 2
    assert "Lean sups" in listed.stdout
    assert "2026" in listed.stdout or "20" in listed.stdout  # a next digest time is shown


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["subscribe", "not-an-address"], "not a valid email address"),
        (["subscribe", "pat@example.com", "--timezone", "Mars/Olympus"], "unknown timezone"),
        (["subscribe", "pat@example.com", "--query", "title:(plant"], "bad query"),
        (["subscribe", "pat@example.com", "--hour", "25"], "hour 25"),
        (["subscribe", "pat@example.com", "--cadence", "hourly"], "unknown cadence"),
        (["subscribe", "pat@example.com", "--within", "20"], "--within needs --location"),
        (["unsubscribe", "nobody@example.com"], "no subscriber"),
        (["searches", "nobody@example.com"], "no subscriber"),
        (["digest", "--at", "2026-11-20T08:00:00"], "no UTC offset"),
        (["digest", "--at", "tomorrow"], "not an ISO 8601 time"),
    ],
)
def test_mistakes_exit_2_with_one_line(folder, args, needle):
    one_line_error(andon(*args, cwd=folder), 2, needle)


def test_unsubscribe(folder):
    andon("subscribe", "pat@example.com", "--confirmed", cwd=folder)
    res = andon("unsubscribe", "pat@example.com", cwd=folder)
    assert res.returncode == 0, res.stderr
    assert "unsubscribed pat@example.com" in res.stdout
    again = andon("unsubscribe", "pat@example.com", cwd=folder)
    assert "already unsubscribed" in again.stdout
    assert "unsubscribed" in andon("searches", cwd=folder).stdout


def test_digest_puts_the_right_jobs_in_the_outbox_and_a_second_run_sends_nothing(tmp_path, db_url):
    env = {"ANDON_DATABASE_URL": db_url, "ANDON_OUTBOX": str(tmp_path / "mail")}
    for address, query in (("pat@example.com", "plant"), ("sam@example.com", "supervisor")):
        res = andon(
            "subscribe",
            address,
            "--confirmed",
            "--query",
            query,
            "--hour",
            "8",
            cwd=tmp_path,
            env=env,
        )
        assert res.returncode == 0, res.stderr
    eng = db.make_engine(db_url)
    with db.session_scope(eng) as s:
        store_batch(
            s,
            [posting(title="Plant Manager", description_text="Run the plant."),
             posting(external_id="2", title="Production Supervisor", company="Beta Foods", url=None,
                     description_text="Lead the night shift.")],
            now=datetime.now(UTC),
        )  # fmt: skip
    eng.dispose()
    # subscribed just now: the first digest is due at the next 08:00 UTC, a day later at most
    now = datetime.now(UTC)
    at = now.replace(hour=8, minute=0, second=0, microsecond=0)
    if at <= now:
        at += timedelta(days=1)
    dry = andon(
        "digest", "--at", at.isoformat().replace("+00:00", "Z"), "--dry-run", cwd=tmp_path, env=env
    )
    assert dry.returncode == 0, dry.stderr
    assert "would send 1 job to pat@example.com" in dry.stdout
    assert "dry run: due 2, sent 0, empty 0, failed 0" in dry.stdout
    assert not (tmp_path / "mail").exists()

    res = andon("digest", "--at", at.isoformat(), cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stderr
    assert "due 2, sent 2, empty 0, failed 0; claim " in res.stdout
    # how long each phase took, for operators (and `bench scale`, which reads the send phase)
    assert re.search(r"; claim \d+\.\d s, send \d+\.\d s$", res.stdout, re.MULTILINE)
    assert "claim" not in dry.stdout.splitlines()[-1]
    by_to = {
        m["To"]: m.get_body(preferencelist=("plain",)).get_content()
        for m in emls(tmp_path / "mail")
    }
    assert set(by_to) == {"pat@example.com", "sam@example.com"}
    assert "Plant Manager" in by_to["pat@example.com"]
    assert "Production Supervisor" not in by_to["pat@example.com"]
    assert "Production Supervisor" in by_to["sam@example.com"]

    again = andon("digest", "--at", at.isoformat(), cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    assert "due 0, sent 0, empty 0, failed 0" in again.stdout
    assert len(emls(tmp_path / "mail")) == 2


def test_digest_with_a_misconfigured_mailer_is_one_line_exit_1(folder):
    res = andon("digest", cwd=folder, env={"ANDON_MAILER": "sendgrid"})
    one_line_error(res, 1, "ANDON_SENDGRID_API_KEY")


NO_POSTAL = {"ANDON_MAILER": "smtp", "ANDON_SMTP_URL": "smtp://u:p@127.0.0.1:9"}


def test_digest_and_status_say_in_one_line_that_smtp_needs_a_postal_address(folder: Path) -> None:
    res = andon("digest", cwd=folder, env=NO_POSTAL)
    one_line_error(res, 1, "ANDON_MAILER=smtp refuses to send without ANDON_POSTAL_ADDRESS")
    status = andon("status", cwd=folder, env=NO_POSTAL)
    assert status.returncode == 0, status.stderr
    lines = [x for x in status.stdout.splitlines() if x.startswith("mail:")]
    assert lines == [
        "mail: not sending: ANDON_MAILER=smtp refuses to send without ANDON_POSTAL_ADDRESS "
        "(the sender's postal address every email must show, e.g. "
        "'Acme Alerts, 500 Griswold St, Detroit, MI 48226, USA')"
    ]
    fine = andon("status", cwd=folder, env={**NO_POSTAL, "ANDON_POSTAL_ADDRESS": "Acme, Detroit"})
    assert "mail: smtp" in fine.stdout.splitlines()


def test_the_file_mailer_marks_its_placeholder_address(folder: Path) -> None:
    status = andon("status", cwd=folder)
    assert "(postal address is a placeholder: set ANDON_POSTAL_ADDRESS)" in status.stdout
    assert (
        andon("subscribe", "pat@example.com", "--query", "plant manager", cwd=folder).returncode
        == 0
    )
    (confirm,) = emls(folder / "outbox")
    body = confirm.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "[placeholder postal address: set ANDON_POSTAL_ADDRESS before sending real mail]" in text
    assert "Anytown" not in text


def test_a_mistyped_place_is_refused_with_a_suggestion_and_nothing_is_saved(folder: Path) -> None:
    res = andon("subscribe", "pat@example.com", "--location", "Detriot, MI", "--within", "50",
                cwd=folder)  # fmt: skip
    one_line_error(res, 2, "Did you mean 'Detroit, MI'?")
    assert "no saved searches" in andon("searches", cwd=folder).stderr


def test_subscribe_takes_its_timezone_from_the_location_and_says_so(folder: Path) -> None:
    res = andon("subscribe", "pat@example.com", "--confirmed", "--location", "Detroit, MI",
                cwd=folder)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "daily at 08:00 America/Detroit" in res.stdout
    assert "timezone: America/Detroit" in res.stdout and "from --location" in res.stdout
    state = andon("subscribe", "sam@example.com", "--confirmed", "--location", "Texas", cwd=folder)
    assert "timezone: America/Chicago" in state.stdout and "Houston" in state.stdout
    given = andon("subscribe", "kim@example.com", "--confirmed", "--location", "Detroit, MI",
                  "--timezone", "Europe/Berlin", cwd=folder)  # fmt: skip
    assert "daily at 08:00 Europe/Berlin" in given.stdout and "timezone:" not in given.stdout
    nowhere = andon("subscribe", "lee@example.com", "--confirmed", cwd=folder)
    assert "timezone: UTC" in nowhere.stdout


def test_searches_shows_an_unconfirmed_search_as_pending_confirmation(folder: Path) -> None:
    assert andon("subscribe", "pat@example.com", "--query", "plant", cwd=folder).returncode == 0
    listed = andon("searches", cwd=folder)
    assert "pending confirmation" in listed.stdout
    assert "paused" not in listed.stdout

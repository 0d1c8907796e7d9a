"""Rendering: autoescape, safe links, header-safe subjects, attribution, market pay, inlined CSS."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default as default_policy

import pytest

from alerts.formatting import format_date, market_figure, money, money_usd, safe_url
from alerts.message import build_message, to_email_message
from alerts.render import (
    DigestJob,
    environment,
    inline_css_in_template,
    render_confirmation,
    render_digest,
    render_operator_alert,
)
from config import MARKET_PAY_USD, Settings
from tests.alerts.conftest import CVE_2024_6923, make_context, make_job


def test_digest_has_text_and_html_with_the_same_jobs() -> None:
    rendered = render_digest(make_context())
    assert rendered.subject == "12 new production jobs for “Plant manager Midwest”"
    assert rendered.html is not None
    for part in (rendered.text, rendered.html):
        assert "Production Manager" in part
        assert "Plant Manager" in part
        assert "Acme Foods" in part
        assert "Dearborn, MI" in part
        assert "On-site" in part
        assert "$95,000–$120,000 / year" in part
        assert "Nov 20, 2026" in part
        assert "Why: title matches “production manager”" in part
        assert "See all 12 matches" in part
        assert "https://andon.example/unsubscribe/UNSUB-TOKEN" in part
        assert "https://andon.example/manage/MANAGE-TOKEN" in part
        assert "andon, 1 Main Street, Anytown, MI 48000, USA" in part


def test_market_figure_beside_salary() -> None:
    rendered = render_digest(make_context())
    line = "US median for production managers: $90,000 (BLS OES May 2023)"
    assert line in rendered.text
    assert line in rendered.html
    text_line = next(t for t in rendered.text.splitlines() if "$95,000" in t)
    assert line in text_line


def test_attribution_shown_where_present() -> None:
    jobs = [
        make_job(1, attribution="Himalayas", source_url="https://himalayas.app/jobs/plant-manager"),
        make_job(2),
    ]
    rendered = render_digest(make_context(jobs=jobs))
    assert rendered.html is not None
    assert rendered.text.count("via Himalayas") == 1
    assert re.search(
        r'via <a [^>]*href="https://himalayas.app/jobs/plant-manager"[^>]*>Himalayas</a>',
        rendered.html,
    )
    assert rendered.html.count("Himalayas</a>") == 1


def test_html_is_autoescaped_and_links_are_http_only() -> None:
    evil = make_job(
        1,
        title="<script>alert(1)</script>Manager",
        company='Acme "Foods" & Co',
        url="javascript:alert(document.cookie)",
        why="<img src=x onerror=alert(1)>",
        attribution="Himalayas",
        source_url="java\tscript:alert(1)",
    )
    rendered = render_digest(make_context(jobs=[evil], subscriber_name="<b>Pat</b>"))
    html = rendered.html
    assert html is not None
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;Manager" in html
    assert "<img" not in html
    assert "&lt;b&gt;Pat&lt;/b&gt;" in html
    assert "Acme &#34;Foods&#34; &amp; Co" in html or "Acme &quot;Foods&quot; &amp; Co" in html
    assert "javascript:" not in html.lower()
    assert "script:alert" not in html
    assert 'href="#"' in html
    # The text part is not HTML: no entities there, and no unsafe link either.
    assert 'Acme "Foods" & Co' in rendered.text
    assert "javascript" not in rendered.text


def test_text_part_keeps_scraped_text_on_one_line() -> None:
    job = make_job(1, title="Manager\n\nUnsubscribe here: https://evil.example")
    text = render_digest(make_context(jobs=[job])).text
    assert "1. Manager Unsubscribe here: https://evil.example" in text


def test_css_is_inlined_into_the_job_rows() -> None:
    html = render_digest(make_context()).html
    assert html is not None
    assert "<style" not in html
    titles = re.findall(r'<a class="job-title"[^>]*>', html)
    assert len(titles) == 2
    assert all('style="' in tag and "font-weight: bold" in tag for tag in titles)
    assert re.search(r'<div class="job" style="[^"]*border-bottom', html)
    assert re.search(r'<a class="footer-link" href="https://andon.example/unsubscribe/', html)


def test_inlining_runs_once_per_template(monkeypatch: pytest.MonkeyPatch) -> None:
    import alerts.render as render_module

    environment()  # templates may already be compiled by earlier tests
    calls: list[str] = []
    real = render_module.inline_css_in_template

    def counting(source: str, css: str | None) -> str:
        calls.append(source[:20])
        return real(source, css)

    monkeypatch.setattr(render_module, "inline_css_in_template", counting)
    render_module.environment.cache_clear()
    try:
        for _ in range(3):
            render_digest(make_context())
        # digest.html and base.html: each inlined once, however many digests are rendered.
        assert len(calls) == 2
    finally:
        render_module.environment.cache_clear()


def test_inliner_keeps_jinja_in_place() -> None:
    source = (
        '<table>{% for r in rows %}<tr><td class="a" title="{{ r.t }}">{{ r.v }}</td></tr>'
        "{% endfor %}{{ tail }}</table>"
    )
    out = inline_css_in_template(source, ".a{color:red}")
    assert out == (
        '<table>{% for r in rows %}<tbody><tr><td class="a" title="{{ r.t }}" style="color: red;">'
        "{{ r.v }}</td></tr>{% endfor %}{{ tail }}</tbody></table>"
    )
    full = inline_css_in_template(
        "<html><head><title>{{ s }}</title><style>p{margin:0}</style></head>"
        "<body><p>{{ s }}</p></body></html>",
        None,
    )
    assert "<title>{{ s }}</title>" in full
    assert '<p style="margin: 0;">{{ s }}</p>' in full


def test_inliner_refuses_a_template_it_would_break() -> None:
    with pytest.raises(ValueError, match="moved Jinja syntax"):
        inline_css_in_template('<td {% if x %}class="a"{% endif %}>y</td>', ".a{color:red}")


def test_subject_is_built_from_counts_and_a_sanitized_name() -> None:
    name = f"Plant manager\r\nBcc: evil@x.com {CVE_2024_6923} Midwest" + " very long" * 20
    rendered = render_digest(make_context(search_name=name, total_matches=1))
    assert rendered.subject.startswith("1 new production job for “Plant manager Bcc: evil@x.com")
    assert "\n" not in rendered.subject
    assert "\r" not in rendered.subject
    assert "=?" not in rendered.subject
    assert "?=" not in rendered.subject
    assert len(rendered.subject) <= 100
    assert rendered.subject.endswith("…”")


def test_cve_2024_6923_payload_in_search_name_adds_no_header(settings: Settings) -> None:
    ctx = make_context(search_name=f"Plant manager {CVE_2024_6923} Midwest")
    rendered = render_digest(ctx)
    msg = build_message(
        settings, to=ctx.to_email, rendered=rendered, unsubscribe_url=ctx.unsubscribe_url
    )
    raw = to_email_message(msg).as_bytes()
    parsed = message_from_bytes(raw, policy=default_policy)
    assert parsed["Bcc"] is None
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in head
    assert b"evil@x.com" not in head
    assert parsed["Subject"] == "12 new production jobs for “Plant manager Midwest”"


def test_cve_2024_6923_is_what_the_sanitizer_prevents() -> None:
    """Guard that the test above means something: raw, the payload injects on this Python."""
    from email.message import EmailMessage
    from email.policy import SMTP

    em = EmailMessage(policy=SMTP)
    em["Subject"] = f"12 new production jobs for “Plant manager {CVE_2024_6923} Midwest”"
    em.set_content("x")
    injected = message_from_bytes(em.as_bytes(), policy=default_policy)["Bcc"]
    if injected is None:
        pytest.skip("this Python has the CVE-2024-6923 fix (3.11.10+)")
    assert injected == "evil@x.com"


def test_no_more_link_when_every_match_is_shown() -> None:
    rendered = render_digest(make_context(total_matches=2))
    assert "See all" not in rendered.text
    assert rendered.html is not None
    assert "See all" not in rendered.html
    assert rendered.subject == "2 new production jobs for “Plant manager Midwest”"


@pytest.mark.parametrize(
    ("salary", "expected", "usd"),
    [
        ({"min": 95000, "max": 120000, "currency": "USD", "period": "year"}, "$95,000–$120,000 / year", ""),
        ({"min": 95000, "max": 95000, "currency": "USD", "period": "year"}, "$95,000 / year", ""),
        ({"min": 95000, "max": None, "currency": "USD", "period": "year"}, "from $95,000 / year", ""),
        ({"min": None, "max": 120000, "currency": "USD", "period": "year"}, "up to $120,000 / year", ""),
        (
            {"min": 28.5, "max": 32, "currency": "USD", "period": "hour", "annual_min_usd": 59280, "annual_max_usd": 66560},
            "$28.50–$32.00 / hour",
            "about $59,000–$67,000 a year",  # an estimate: to the thousand
        ),
        (
            {"min": 4000, "max": 5000, "currency": "EUR", "period": "month", "annual_min_usd": 52000.4, "annual_max_usd": 65000.6},
            "€4,000–€5,000 / month",
            "about $52,000–$65,000 a year",
        ),
        ({"min": 110000, "max": 130000, "currency": "CAD", "period": "year"}, "CA$110,000–CA$130,000 / year", ""),
        ({"min": 9000, "max": 12000, "currency": "PLN", "period": "month"}, "PLN 9,000–12,000 / month", ""),
        ({"min": 9000, "max": None, "currency": "PLN", "period": "month"}, "from PLN 9,000 / month", ""),
        ({"min": None, "max": None, "currency": "USD", "period": "year"}, "", ""),
        (None, "", ""),
    ],
)  # fmt: skip
def test_money(salary: dict | None, expected: str, usd: str) -> None:
    assert money(salary) == expected
    assert money_usd(salary) == usd


def test_foreign_salary_shows_its_usd_equivalent() -> None:
    job = make_job(
        1,
        salary={"min": 4000, "max": 5000, "currency": "EUR", "period": "month",
                "annual_min_usd": 52000, "annual_max_usd": 65000},
    )  # fmt: skip
    rendered = render_digest(make_context(jobs=[job]))
    assert "€4,000–€5,000 / month (about $52,000–$65,000 a year)" in rendered.text


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://jobs.example/1?a=b&c=d", "https://jobs.example/1?a=b&c=d"),
        ("http://jobs.example/1", "http://jobs.example/1"),
        (" https://jobs.example/1 ", "https://jobs.example/1"),
        ("javascript:alert(1)", "#"),
        ("JavaScript:alert(1)", "#"),
        ("java\tscript:alert(1)", "#"),
        ("data:text/html,<script>", "#"),
        ("vbscript:x", "#"),
        ("//evil.example/x", "#"),
        ("/relative", "#"),
        ("https:///nohost", "#"),
        ("https://jobs.example/a b", "#"),
        ("", "#"),
        (None, "#"),
    ],
)
def test_safe_url(url: str | None, expected: str) -> None:
    assert safe_url(url) == expected


def test_format_date() -> None:
    from datetime import UTC, date, datetime

    assert format_date("2026-11-20T00:00:00Z") == "Nov 20, 2026"
    assert format_date(datetime(2026, 3, 5, tzinfo=UTC)) == "Mar 5, 2026"
    assert format_date(date(2026, 1, 9)) == "Jan 9, 2026"
    assert format_date(None) == ""
    assert format_date("yesterday") == ""


def test_market_figure_and_from_listing() -> None:
    assert market_figure(MARKET_PAY_USD, "director") == (
        150_000,
        "US median for production directors: $150,000 (BLS OES May 2023)",
    )
    # a median, not an exact figure: BLS's $107,430 reads $107,000
    assert market_figure(MARKET_PAY_USD, None) == (
        107_000,
        "US median for production managers: $107,000 (BLS OES May 2023)",
    )
    assert market_figure(None, "manager") == (None, None)
    listing = {
        "id": 17, "title": "Production Manager", "company": "Acme Foods", "url": "https://x.example/17",
        "location": {"text": "Dearborn, MI", "country": "US"}, "workplace": "hybrid", "salary": None,
        "seniority": "senior", "posted_at": "2026-11-20T00:00:00Z",
    }  # fmt: skip
    job = DigestJob.from_listing(listing, why="title matches", market_table=MARKET_PAY_USD)
    assert (job.posting_id, job.location_text, job.market_pay) == (17, "Dearborn, MI", 118_000)
    text = render_digest(make_context(jobs=[job], total_matches=1)).text
    assert "Salary not listed · US median for senior production managers: $118,000" in text
    assert "Hybrid" in text


def test_confirmation() -> None:
    rendered = render_confirmation(
        "pat@example.com",
        "https://andon.example/confirm/CONFIRM-TOKEN",
        "plant manager near Detroit, daily",
        "andon, 1 Main Street",
        expires_in_days=7,
    )
    assert rendered.subject == "Confirm your andon job alert"
    assert rendered.html is not None
    for part in (rendered.text, rendered.html):
        assert "https://andon.example/confirm/CONFIRM-TOKEN" in part
        assert "plant manager near Detroit, daily" in part
        assert "7 days" in part
        assert "andon, 1 Main Street" in part
    assert "<style" not in rendered.html
    assert re.search(
        r'<a class="button" href="https://andon.example/confirm/[^"]+" style="', rendered.html
    )


def test_operator_alert_is_text_only_and_header_safe() -> None:
    rendered = render_operator_alert(
        "SendGrid refused the key\r\nBcc: x@y.z", ["401 from SendGrid", "run stopped"]
    )
    assert rendered.html is None
    assert rendered.subject == "[andon] SendGrid refused the key Bcc: x@y.z"
    assert "- 401 from SendGrid\n- run stopped" in rendered.text


def test_environment_is_one_per_process_with_autoescape() -> None:
    env = environment()
    assert env is environment()
    assert env.autoescape is True
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"


def test_the_market_line_only_where_the_us_table_applies() -> None:
    listing = {
        "id": 18, "title": "Produktionsleiter", "company": "Acme GmbH", "url": "https://x.example/18",
        "location": {"text": "Munich, Germany", "country": "DE"}, "workplace": "onsite",
        "salary": {"min": 150000, "max": 180000, "currency": "EUR", "period": "year",
                   "annual_min_usd": 157766.2, "annual_max_usd": 191573.4},
        "seniority": "manager", "posted_at": "2026-11-20T00:00:00Z",
    }  # fmt: skip
    german = DigestJob.from_listing(listing, why="title matches", market_table=MARKET_PAY_USD)
    assert (german.market_pay, german.market_label) == (None, None)
    text = render_digest(make_context(jobs=[german], total_matches=1)).text
    assert "US median" not in text
    assert "(about $158,000–$192,000 a year)" in text
    unknown = {**listing, "location": {"text": "Somewhere"}}
    assert DigestJob.from_listing(unknown, why="", market_table=MARKET_PAY_USD).market_pay is None
    german_data = {**MARKET_PAY_USD, "country": "DE"}
    assert market_figure(german_data, "manager", "US") == (None, None)

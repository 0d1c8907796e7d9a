"""Digest rendering (Jinja2, CSS inlined at load) against a hand-written f-string renderer."""

from __future__ import annotations

import json
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import escape

import css_inline

from alerts.formatting import (
    format_date,
    market_figure,
    money,
    money_usd,
    oneline,
    safe_url,
    workplace,
)
from alerts.render import (
    DigestContext,
    DigestJob,
    RenderedEmail,
    digest_subject,
    environment,
    render_digest,
)
from config import MARKET_PAY_USD

SIZES = {"small": 200, "full": 2000}
JOBS_PER_DIGEST = 25
ROUNDS = 7
SEED = 20261125

TITLES = [
    "Production Manager", "Plant Manager", "Production Supervisor", "Assistant Production Manager",
    "Senior Production Manager", "Director of Production", "VP, Manufacturing Operations",
    "Manufacturing Manager", "Production Control Manager", "Second Shift Production Supervisor",
    "Industrial Production Manager", "Operations Manager – Food & Beverage",
]  # fmt: skip
COMPANIES = [
    "Acme Foods", "Hitachi Energy", "Bosch", "Nestlé USA", "Tyson Foods", "Magna International",
    "Spirit AeroSystems", "Pfizer", "AT&T Components", "Smith & Wesson", "Ford Motor Company",
]  # fmt: skip
PLACES = [
    "Dearborn, MI", "Toledo, OH", "Wichita, KS", "Kalamazoo, MI", "Greenville, SC",
    "Springdale, AR", "Remote, US", "Toronto, ON, Canada", "Monterrey, Mexico", "Munich, Germany",
]  # fmt: skip
SENIORITY = ["supervisor", "assistant", "manager", "senior", "director", "executive", None]
WHY = [
    "title matches “production manager”; within 50 miles of Detroit",
    "title matches “plant manager”; lean and six sigma",
    "company matches “Acme”; onsite",
    "title matches “production supervisor”; pays at least $80,000",
]


def _salary(rng: random.Random) -> dict[str, object] | None:
    kind = rng.random()
    if kind < 0.25:
        return None
    if kind < 0.75:
        lo = rng.randrange(70, 160) * 1000
        return {"min": lo, "max": lo + rng.randrange(5, 40) * 1000, "currency": "USD",
                "period": "year", "annual_min_usd": lo, "annual_max_usd": lo + 20000}  # fmt: skip
    if kind < 0.9:
        rate = rng.randrange(2400, 4200) / 100
        return {"min": rate, "max": rate + 4.5, "currency": "USD", "period": "hour",
                "annual_min_usd": rate * 2080, "annual_max_usd": (rate + 4.5) * 2080}  # fmt: skip
    lo = rng.randrange(4, 9) * 1000
    return {"min": lo, "max": lo + 1000, "currency": "EUR", "period": "month",
            "annual_min_usd": lo * 12 * 1.08, "annual_max_usd": (lo + 1000) * 12 * 1.08}  # fmt: skip


def make_contexts(n: int, seed: int = SEED) -> list[DigestContext]:
    """n digests of 25 realistic jobs each, the same every run."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    contexts = []
    for d in range(n):
        jobs = []
        for j in range(JOBS_PER_DIGEST):
            seniority = rng.choice(SENIORITY)
            pay, label = market_figure(MARKET_PAY_USD, seniority)
            himalayas = rng.random() < 0.2
            jobs.append(
                DigestJob(
                    posting_id=d * 100 + j,
                    title=rng.choice(TITLES),
                    company=rng.choice(COMPANIES),
                    url=f"https://jobs.example.com/{d}/{j}?utm_source=andon&ref=a%20b",
                    location_text=rng.choice(PLACES),
                    workplace=rng.choice(["onsite", "hybrid", "remote", None]),
                    salary=_salary(rng),
                    seniority=seniority,
                    posted_at=start + timedelta(days=rng.randrange(0, 25)),
                    attribution="Himalayas" if himalayas else None,
                    source_url=f"https://himalayas.app/jobs/{d}-{j}" if himalayas else None,
                    why=rng.choice(WHY),
                    market_pay=pay,
                    market_label=label,
                )
            )
        contexts.append(
            DigestContext(
                to_email=f"subscriber{d}@example.com",
                subscriber_name=rng.choice(["Pat", "Sam O'Neil", None]),
                search_name=rng.choice(
                    ["Plant manager Midwest", "Production <director>", "Food & bev"]
                ),
                cadence=rng.choice(["daily", "weekly"]),
                jobs=jobs,
                total_matches=JOBS_PER_DIGEST + rng.randrange(0, 40),
                more_url=f"https://andon.example/searches/{d}/matches",
                manage_url=f"https://andon.example/manage/TOKEN{d}",
                unsubscribe_url=f"https://andon.example/unsubscribe/TOKEN{d}",
                feed_url=f"https://andon.example/feed/TOKEN{d}",
                postal_address="andon, 500 Griswold St, Detroit, MI 48226, USA",
                period_label="since yesterday",
            )
        )
    return contexts


# --- the baseline: the same email written by hand with f-strings and html.escape ---------------

_S = {
    "body": "margin: 0;padding: 0;background-color: #f3f4f6;",
    "job": "padding: 14px 0;border-bottom: 1px solid #e5e7eb;",
    "title": "font-size: 17px;font-weight: bold;color: #1d4ed8;text-decoration: none;",
    "company": "margin-top: 2px;font-size: 15px;font-weight: bold;color: #111827;",
    "meta": "margin-top: 2px;font-size: 13px;color: #4b5563;",
    "pay": "margin-top: 4px;font-size: 14px;color: #111827;",
    "salary": "font-weight: bold;color: #065f46;",
    "none": "color: #6b7280;",
    "market": "font-size: 12px;color: #6b7280;",
    "why": "margin-top: 4px;font-size: 13px;font-style: italic;color: #374151;",
    "via": "margin-top: 2px;font-size: 12px;color: #6b7280;",
    "link": "color: #6b7280;text-decoration: underline;",
    "footer": "padding: 16px 24px 24px 24px;background-color: #f9fafb;font-size: 12px;color: #6b7280;",
    "button": "display: inline-block;padding: 10px 18px;background-color: #1d4ed8;color: #ffffff;",
}


def _meta(job: DigestJob) -> str:
    meta = job.location_text or "Location not given"
    if job.workplace:
        meta += f" · {workplace(job.workplace)}"
    if job.posted_at:
        meta += f" · Posted {format_date(job.posted_at)}"
    return meta


def _pay_text(job: DigestJob) -> str:
    if job.salary:
        usd = money_usd(job.salary)
        pay = money(job.salary) + (f" ({usd})" if usd else "")
    else:
        pay = "Salary not listed"
    return pay + (f" · {job.market_label}" if job.market_label else "")


def _job_html(job: DigestJob) -> str:
    if job.salary:
        usd = money_usd(job.salary)
        pay = f'<span class="salary" style="{_S["salary"]}">{escape(money(job.salary))}</span>'
        if usd:
            pay += f' <span class="market" style="{_S["market"]}">({escape(usd)})</span>'
    else:
        pay = f'<span class="salary-none" style="{_S["none"]}">Salary not listed</span>'
    if job.market_label:
        pay += f' <span class="market" style="{_S["market"]}">· {escape(job.market_label)}</span>'
    via = ""
    if job.attribution:
        name = escape(job.attribution)
        if job.source_url:
            href = escape(safe_url(job.source_url))
            name = f'<a class="via-link" href="{href}" style="{_S["link"]}">{name}</a>'
        via = f'<div class="via" style="{_S["via"]}">via {name}</div>\n'
    return (
        f'<div class="job" style="{_S["job"]}">\n'
        f'<a class="job-title" href="{escape(safe_url(job.url))}" style="{_S["title"]}">'
        f"{escape(job.title)}</a>\n"
        f'<div class="company" style="{_S["company"]}">{escape(job.company)}</div>\n'
        f'<div class="meta" style="{_S["meta"]}">{escape(_meta(job))}</div>\n'
        f'<div class="pay" style="{_S["pay"]}">{pay}</div>\n'
        f'<div class="why" style="{_S["why"]}">Why: {escape(job.why)}</div>\n'
        f"{via}</div>\n"
    )


def _job_text(n: int, job: DigestJob) -> str:
    lines = [
        f"{n}. {oneline(job.title)}",
        f"   {oneline(job.company)}",
        f"   {oneline(_meta(job))}",
        f"   {_pay_text(job)}",
        f"   Why: {oneline(job.why)}",
    ]
    if job.attribution:
        lines.append(f"   via {oneline(job.attribution)}")
    url = safe_url(job.url)
    if url != "#":
        lines.append(f"   {url}")
    return "\n".join(lines) + "\n\n"


def render_by_hand(ctx: DigestContext) -> RenderedEmail:
    """The same digest as render_digest, without a template engine."""
    subject = digest_subject(ctx.total_matches, ctx.search_name)
    more = ctx.total_matches > len(ctx.jobs)
    headline = f"{ctx.total_matches} new jobs match your saved search “{oneline(ctx.search_name)}”"
    headline += f" {ctx.period_label}." + (f" Here are the best {len(ctx.jobs)}." if more else "")
    hello = f"Hello{' ' + ctx.subscriber_name if ctx.subscriber_name else ''},"
    text = (
        f"{hello}\n\n{headline}\n\n"
        + "".join(_job_text(i, job) for i, job in enumerate(ctx.jobs, 1))
        + (f"See all {ctx.total_matches} matches: {safe_url(ctx.more_url)}\n\n" if more else "")
        + f"--\nYou get this {ctx.cadence} digest because you saved the search "
        f'"{oneline(ctx.search_name)}" with andon at {ctx.to_email}.\n'
        f"Manage your searches: {safe_url(ctx.manage_url)}\n"
        + (f"RSS feed: {safe_url(ctx.feed_url)}\n" if ctx.feed_url else "")
        + f"Unsubscribe: {safe_url(ctx.unsubscribe_url)}\n\n{oneline(ctx.postal_address)}\n"
    )
    button = (
        f'<p class="more"><a class="button" href="{escape(safe_url(ctx.more_url))}" '
        f'style="{_S["button"]}">See all {ctx.total_matches} matches</a></p>\n'
    )
    link = _S["link"]
    feed = (
        f' · <a class="footer-link" href="{escape(safe_url(ctx.feed_url))}" style="{link}">RSS feed</a>'
        if ctx.feed_url
        else ""
    )
    html = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(subject)}</title>'
        f'</head><body style="{_S["body"]}"><table role="presentation"><tr><td>\n'
        f'<p class="intro">{escape(hello)}</p>\n<p class="intro">{escape(headline)}</p>\n'
        + "".join(_job_html(job) for job in ctx.jobs)
        + (button if more else "")
        + f'</td></tr><tr><td class="footer" style="{_S["footer"]}">\n'
        f"You get this {escape(ctx.cadence)} digest because you saved the search "
        f"“{escape(ctx.search_name)}” with andon at {escape(ctx.to_email)}.<br>\n"
        f'<a class="footer-link" href="{escape(safe_url(ctx.manage_url))}" style="{link}">'
        f"Manage your searches</a>{feed} · "
        f'<a class="footer-link" href="{escape(safe_url(ctx.unsubscribe_url))}" style="{link}">'
        f'Unsubscribe</a>\n<div class="address">{escape(ctx.postal_address)}</div>\n'
        f"</td></tr></table></body></html>"
    )
    return RenderedEmail(subject=subject, text=text, html=html)


# --- the alternative we did not choose: inline the CSS of every rendered email -----------------

_INLINER = css_inline.CSSInliner(load_remote_stylesheets=False)


def _render_then_inline(ctx: DigestContext) -> RenderedEmail:
    rendered = render_digest(ctx)
    return RenderedEmail(rendered.subject, rendered.text, _INLINER.inline(rendered.html or ""))


def _time(fn: Callable[[DigestContext], RenderedEmail], contexts: list[DigestContext]) -> float:
    start = time.perf_counter()
    for ctx in contexts:
        fn(ctx)
    return time.perf_counter() - start


def main(size: str) -> None:
    n = SIZES[size]
    contexts = make_contexts(n)
    start = time.perf_counter()
    environment()
    render_digest(contexts[0])  # loads, inlines and compiles the templates once
    load_s = time.perf_counter() - start
    render_by_hand(contexts[0])
    ours, baseline, alternative = [], [], []
    for r in range(ROUNDS):
        # Interleaved, and the order flips each round so neither side always runs warm.
        if r % 2 == 0:
            ours.append(_time(render_digest, contexts))
            baseline.append(_time(render_by_hand, contexts))
        else:
            baseline.append(_time(render_by_hand, contexts))
            ours.append(_time(render_digest, contexts))
        alternative.append(
            _time(_render_then_inline, contexts[: max(1, n // 4)]) * (n / max(1, n // 4))
        )
    ours_s = statistics.median(ours)
    baseline_s = statistics.median(baseline)
    print(
        json.dumps(
            {
                "bench": "render",
                "size": size,
                "ours_s": round(ours_s, 4),
                "baseline": "hand-written f-string renderer",
                "baseline_s": round(baseline_s, 4),
                "ratio": round(baseline_s / ours_s, 3),
                "digests_per_s": round(n / ours_s, 1),
                "digests": n,
                "jobs_per_digest": JOBS_PER_DIGEST,
                "rounds": ROUNDS,
                "template_load_s": round(load_s, 4),
                "inline_every_render_s": round(statistics.median(alternative), 4),
            }
        )
    )

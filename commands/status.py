"""`andon status` and `andon serve`: what runs and when, the health of each source; the web app."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from commands.base import app, engine, friendly, out, settings


@app.command()
@friendly
def status() -> None:
    """Sources with last crawl health, counts, last digests."""
    from rich.table import Table

    import db
    from alerts import stats
    from alerts.feedback import counts_lines, not_relevant_counts
    from pipeline import health

    eng = engine()
    with db.session_scope(eng) as session:
        postings = health.posting_counts(session)
        sources = health.source_health(session)
        subscribers = stats.subscriber_counts(session)
        searches = stats.search_counts(session)
        digests = stats.digest_counts(session)
        recent = stats.recent_digests(session, limit=5)
        feedback = not_relevant_counts(session)
    out.print(
        f"postings: {postings.get('open', 0)} open, {postings.get('closed', 0)} closed",
        highlight=False,
    )
    subs = ", ".join(f"{n} {s}" for s, n in sorted(subscribers.items())) or "none"
    out.print(
        f"subscribers: {subs}; saved searches: {searches['active']} active, {searches['paused']} paused",
        highlight=False,
    )
    table = Table(title="sources")
    for col in ("source", "kind", "last run", "status", "kept", "new", "errors", "health"):
        table.add_column(col)
    for h in sources:
        table.add_row(
            h.source,
            h.kind,
            h.last_started.strftime("%Y-%m-%d %H:%M") if h.last_started else "never",
            h.last_status or "",
            str(h.last_kept),
            str(h.last_new),
            str(h.last_errors),
            health_cell(h),
        )
    if sources:
        out.print(table)
    else:
        out.print("sources: no crawl yet (run `andon crawl`)")
    for line in _schedule_lines():
        out.print(line, highlight=False)
    dig = ", ".join(f"{n} {s}" for s, n in sorted(digests.items())) or "none yet"
    out.print(f"digests: {dig}", highlight=False)
    from alerts.mailers import mail_status_line

    out.print(mail_status_line(settings()), highlight=False, markup=False)
    for d in recent:
        when = (d.sent_at or d.created_at).strftime("%Y-%m-%d %H:%M")
        out.print(
            f"  #{d.id} search {d.saved_search_id} {d.period_key}: {d.status}, {d.job_count} jobs, {when}",
            highlight=False,
        )
    for line in counts_lines(feedback):
        out.print(line, highlight=False, markup=False)


def health_cell(h: Any) -> str:
    """`status`'s health column (Rich markup): a flag, the last run's failure and its error, or ok."""
    from rich.markup import escape

    why = f": {escape(h.last_message)}" if h.last_message else ""
    if h.flag:
        return f"[red]{escape(h.flag)}[/]{why if h.last_status in ('failed', 'partial') else ''}"
    if h.last_status == "failed":
        return f"[red]failed[/]{why}"
    if h.last_status == "partial":
        return f"[yellow]partial[/]{why}"
    return "ok"


def _schedule_lines() -> list[str]:
    return schedule_lines(settings(), engine(check=False))


def schedule_lines(cfg: Any, eng: Any, *, now: Any = None) -> list[str]:
    """`andon status`'s schedule: who leads, each job's next run, what each Scrapyd node runs."""
    import db
    from runtime.status import schedule_status

    st = schedule_status(cfg, eng, now=now)
    lines = [
        f"scheduler: running ({st.leader})"
        if st.leader
        else "scheduler: not running (start it with `andon run`); next runs once it starts:"
    ]
    if st.error:
        return [f"schedule: {st.error}"]
    now = now or db.utcnow()
    for job in st.jobs:
        if job.kind == "crawl":
            last = (
                f"last started {job.last_started:%Y-%m-%d %H:%M} UTC"
                if job.last_started
                else "never crawled"
            )
            when = (
                "overdue: runs right after `andon run` starts"
                if job.overdue
                else _when(job.next_run, now)
            )
            lines.append(f"  {job.id}: {when} ({job.every}; {last})")
        elif job.kind == "digests":
            due = st.next_digest_due
            nxt = f"next saved search due {_when(due, now)}" if due else "no active saved search"
            lines.append(f"  digests: {job.every}; {nxt}")
        else:
            lines.append(f"  sweep: {job.every}, once right after start")
    for node, names in st.nodes.items():
        crawling = ", ".join(sorted(names)) or "idle"
        lines.append(f"  scrapyd {node}: {crawling} ({st.node_states.get(node, '?')})")
    return lines


def _when(at: Any, now: Any) -> str:
    from datetime import timedelta

    delta = at - now
    if delta.total_seconds() < 90:
        return "within a minute"
    if delta < timedelta(hours=2):
        return f"{at:%Y-%m-%d %H:%M} UTC (in {int(delta.total_seconds() // 60)} min)"
    return f"{at:%Y-%m-%d %H:%M} UTC"


@app.command()
@friendly
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
) -> None:
    """The web app: subscribe, manage, unsubscribe, browse listings, JSON API, webhooks."""
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from alerts.logredact import install_log_redaction, with_redaction
    from web.app import create_app

    eng = engine()  # refuse an un-initialised database before listening
    install_log_redaction()
    # The access log prints every path: /manage/<token>, /ops?token=… must come out redacted.
    uvicorn.run(
        create_app(settings(), eng), host=host, port=port, proxy_headers=True,
        log_config=with_redaction(LOGGING_CONFIG),
    )  # fmt: skip

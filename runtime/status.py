"""What `andon status` says about the schedule: who leads, each job's next run, the next digest
due, and what each crawl slot (a local child or a Scrapyd job) is running."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from config import Settings
from db import session_scope, utcnow
from runtime import slots
from runtime.leader import leadership_for
from runtime.plan import PlannedJob, plan_from_db
from spiders.sources import load_sources


@dataclass
class ScheduleStatus:
    """The schedule as `andon run` would plan it now, and what runs at the moment."""

    leader: str | None  # who leads, or None when no scheduler runs
    jobs: list[PlannedJob] = field(default_factory=list)
    next_digest_due: datetime | None = None
    running: list[slots.Slot] = field(default_factory=list)
    nodes: dict[str, list[str]] = field(default_factory=dict)  # Scrapyd node → sources it runs
    node_states: dict[str, str] = field(default_factory=dict)  # Scrapyd node → answering or not
    error: str | None = None  # why the schedule could not be planned


def schedule_status(
    settings: Settings, engine: Engine, *, now: datetime | None = None
) -> ScheduleStatus:
    """Gather the schedule's state from the sources file and the database."""
    now = now or utcnow()
    leader = leadership_for(engine).current_leader()
    try:
        sources = load_sources(settings.sources)
    except Exception as exc:  # status must still print the rest
        return ScheduleStatus(leader, error=f"cannot read the sources file: {exc}")
    running = [slot for slot, _ in slots.all_slots(engine)]
    nodes: dict[str, list[str]] = {url: [] for url in settings.scrapyd_nodes()}
    for slot in running:
        if slot.node:
            nodes.setdefault(slot.node, []).append(slot.source)
    states: dict[str, str] = {}
    if nodes:
        from runtime.scrapyd import node_states

        states = node_states(list(nodes))
    return ScheduleStatus(
        leader, plan_from_db(engine, sources, now=now), next_digest_due(engine), running, nodes,
        states,
    )  # fmt: skip


def next_digest_due(engine: Engine) -> datetime | None:
    """When the next active saved search of an active subscriber is due."""
    from alerts.models import SavedSearch, Subscriber

    with session_scope(engine) as session:
        due = session.execute(
            select(func.min(SavedSearch.next_due_at))
            .join(Subscriber, Subscriber.id == SavedSearch.subscriber_id)  # type: ignore[arg-type]
            .where(col(SavedSearch.active).is_(True), col(Subscriber.status) == "active")
        ).scalar()
    if due is None:
        return None
    if isinstance(due, str):  # SQLite hands aggregates back without the column type
        due = datetime.fromisoformat(due)
    return due.replace(tzinfo=UTC) if due.tzinfo is None else due.astimezone(UTC)

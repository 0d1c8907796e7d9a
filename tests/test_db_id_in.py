"""`db.id_in`: a column among many ids, passed as one parameter, on both engines."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from alerts.models import Subscriber
from db import id_in


def _ids(engine: Engine, wanted: list[int]) -> list[int]:
    with Session(engine) as session:
        stmt = select(col(Subscriber.id)).where(id_in(col(Subscriber.id), wanted, session))
        return sorted(session.execute(stmt).scalars())


def test_id_in_finds_exactly_the_listed_ids_on_both_engines(engine: Engine) -> None:
    with Session(engine) as session:
        people = [Subscriber(email=f"p{i}@example.com") for i in range(5)]
        session.add_all(people)
        session.commit()
        ids = sorted(p.id for p in people if p.id is not None)
    assert _ids(engine, [*ids[1:4], 10**9]) == ids[1:4]  # an unknown id matches nothing
    assert _ids(engine, []) == []
    # thousands of ids are still one parameter
    assert _ids(engine, [*list(range(-5000, 0)), ids[0]]) == [ids[0]]

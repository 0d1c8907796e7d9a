"""The pool pings a PostgreSQL connection only when it comes back after an idle second
(`db.PING_AFTER_IDLE_S`): the send phase's transactions, milliseconds apart, skip the round
trip `pool_pre_ping` spent on each; a connection the server dropped while idle is still
replaced, as pre-ping did."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

import db

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def _backend_pid(engine: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _counting_pings(engine: Any, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    pings: list[object] = []
    real = engine.dialect.do_ping

    def ping(dbapi_conn: object) -> bool:
        pings.append(dbapi_conn)
        return bool(real(dbapi_conn))

    monkeypatch.setattr(engine.dialect, "do_ping", ping)
    return pings


def test_a_connection_back_a_moment_ago_is_not_pinged(engine, monkeypatch) -> None:
    pings = _counting_pings(engine, monkeypatch)
    first = _backend_pid(engine)  # a fresh connection: not pinged either
    assert [_backend_pid(engine) for _ in range(5)] == [first] * 5
    assert pings == []
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)  # every connection has been idle enough
    assert _backend_pid(engine) == first
    assert len(pings) == 1


def test_an_idle_connection_the_server_dropped_is_replaced(db_url, engine, monkeypatch) -> None:
    admin = db.make_engine(db_url)
    try:
        dropped = _backend_pid(engine)
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": dropped})
        monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)
        assert _backend_pid(engine) != dropped  # pinged, found dead, replaced

        dropped = _backend_pid(engine)
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": dropped})
        monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 3600.0)
        with pytest.raises(OperationalError):  # not pinged: the dead connection is used
            _backend_pid(engine)
    finally:
        admin.dispose()

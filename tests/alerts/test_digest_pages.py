"""A run reads the due searches page by page and claims them in chunks: any page and chunk size
gives the same digests, and a subscriber whose searches straddle two pages still gets each job
once, the later search picking the next-best ones (the dry run too). A sender reads the queue a
window of ids at a time and sends every digest in it."""

from __future__ import annotations

import importlib

import pytest

from alerts.digests import run_digests
from tests.alerts.test_digests import (
    RUN1,
    Recording,
    add_search,
    delivered,
    digests,
    job,
    store,
)
from tests.alerts.test_digests import settings as settings_fixture  # noqa: F401  (pytest finds it)

# the modules (`alerts.digests.plan` the attribute is the function of that name)
claim_module = importlib.import_module("alerts.digests.claim")
plan_module = importlib.import_module("alerts.digests.plan")
outbox_module = importlib.import_module("alerts.digests.outbox")


@pytest.mark.parametrize(("page", "chunk"), [(1, 1), (2, 1), (2, 2), (2000, 100)])
def test_pages_and_chunks_of_any_size_give_the_same_digests(
    engine, settings, monkeypatch, page, chunk
):
    monkeypatch.setattr(claim_module, "BATCH", page)
    monkeypatch.setattr(claim_module, "CHUNK", chunk)
    monkeypatch.setattr(plan_module, "BATCH", page)
    settings.digest_cap = 2
    pat_manager = add_search(engine, "pat@example.com", query="manager", name="Manager")
    pat_plant = add_search(engine, "pat@example.com", query="plant", name="Plant")
    sam, sam_search = add_search(engine, "sam@example.com", query="manager", name="Sam's")
    ids = store(
        engine,
        job(1, "Plant Manager"),
        job(2, "Production Manager"),
        job(3, "Plant Supervisor"),
        job(4, "Manager"),
    )
    p1, p2, p3 = (ids[f"greenhouse:acme:{n}"] for n in (1, 2, 3))

    dry = run_digests(settings, engine, at=RUN1, dry_run=True)
    planned = {p.search_name: (p.job_count, p.total_matches) for p in dry.planned}
    # "manager" takes the best two of its three; "plant" then gets the one left of its two
    assert planned == {"Manager": (2, 3), "Plant": (1, 1), "Sam's": (2, 3)}
    assert digests(engine) == []

    mailer = Recording()
    summary = run_digests(settings, engine, at=RUN1, mailer=mailer)
    assert (summary.due, summary.sent, summary.empty) == (3, 3, 0)
    pat = pat_manager[0]
    by_search = {d.saved_search_id: (d.job_count, d.total_matches) for d in digests(engine)}
    assert by_search == {pat_manager[1]: (2, 3), pat_plant[1]: (1, 1), sam_search: (2, 3)}
    assert sorted((s, p) for s, p, _d in delivered(engine)) == sorted(
        [(pat, p1), (pat, p2), (pat, p3), (sam, p1), (sam, p2)]
    )
    assert sorted(m.to for m in mailer.sent) == [
        "pat@example.com",
        "pat@example.com",
        "sam@example.com",
    ]
    again = run_digests(settings, engine, at=RUN1, mailer=mailer)
    assert (again.due, again.sent) == (0, 0)


def test_a_sender_walks_the_queue_window_by_window(engine, settings, monkeypatch):
    monkeypatch.setattr(outbox_module, "_WINDOW", 2)
    addresses = [f"p{n}@example.com" for n in range(5)]
    for address in addresses:
        add_search(engine, address, query="manager")
    store(engine, job(1, "Plant Manager"))
    mailer = Recording()
    summary = run_digests(settings, engine, at=RUN1, mailer=mailer)
    assert (summary.due, summary.sent) == (5, 5)
    assert sorted(m.to for m in mailer.sent) == addresses
    assert {d.status for d in digests(engine)} == {"sent"}


def test_the_collector_stays_paused_from_a_page_s_matching_to_its_last_claim(
    engine, settings, monkeypatch
):
    import gc

    # resumed between matching and claiming, a collection would walk every match of the page
    monkeypatch.setattr(claim_module, "BATCH", 2)
    monkeypatch.setattr(claim_module, "CHUNK", 1)
    for n in range(3):
        add_search(engine, f"p{n}@example.com", query="manager")
    store(engine, job(1, "Plant Manager"))
    at_claim: list[bool] = []
    claim_chunk = claim_module.claim_chunk

    def recording(*args, **kwargs):
        at_claim.append(gc.isenabled())
        return claim_chunk(*args, **kwargs)

    monkeypatch.setattr(claim_module, "claim_chunk", recording)
    enabled = gc.isenabled()
    gc.enable()
    try:
        summary = run_digests(settings, engine, at=RUN1, mailer=Recording())
        assert gc.isenabled()  # as the run found it
    finally:
        (gc.enable if enabled else gc.disable)()
    assert (summary.due, summary.sent) == (3, 3)
    assert at_claim == [False, False, False]

"""`bench scale` runs its whole code path on a tiny size, so it cannot rot (nothing is timed)."""

from __future__ import annotations

import json

import psycopg
import pytest
from sqlalchemy.engine import make_url

from bench import scale, scale_data
from bench.__main__ import main as bench_main
from bench.scale import SIZES, run
from bench.scale_data import Size


def _scale_databases(admin_url: str) -> set[str]:
    url = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'andon_scale_%'")
        return {r[0] for r in rows}


def test_scale_bench_runs_end_to_end_on_a_tiny_size(postgres_admin_url, capsys, monkeypatch):
    # Its own database by name: other runs of the bench may create and drop theirs meanwhile.
    created: list[str] = []

    def create(admin_url: str) -> str:
        created.append(scale_data.create_database(admin_url))
        return created[-1]

    monkeypatch.setattr(scale, "create_database", create)
    lines = run("tiny", Size(postings=800, subscribers=40, searches=60, day_new=200),
                postgres_admin_url, requests=3)  # fmt: skip
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    by_bench: dict[str, list[dict]] = {}
    for line in lines:
        by_bench.setdefault(line["bench"], []).append(line)
        for key in ("size", "ours_s", "baseline", "baseline_s", "ratio"):
            assert key in line, (line["bench"], key)
    assert printed[: len(lines)] == lines
    assert printed[-1]["bench"] == "scale-total"

    cycle = by_bench["scale-digest-cycle"][0]
    # every due search of an active subscriber was matched and claimed; some digests went out
    # (measure() itself checks the sink got exactly one message per digest in every run)
    assert 0 < cycle["digests_sent"] <= cycle["due_searches"] <= 60
    assert cycle["digest_peak_rss_mb"] > 0
    assert by_bench["scale-digest-senders"][0]["digests_sent"] == cycle["digests_sent"]

    shapes = [line["shape"] for line in by_bench["scale-listing"]]
    assert shapes == ["newest", "query", "place_radius", "workplace", "min_salary",
                      "seniority", "since", "combined"]  # fmt: skip
    for line in by_bench["scale-listing"]:
        assert any(row.startswith("Execution Time") for row in line["explain"])
        assert line["requests"] == 3
    # the newest-first page of open postings is read in order from an index (at 800 postings
    # the planner takes 0011's partial one or the (status, listed_at) one: the load's two COPY
    # streams interleave the rows a little differently each time)
    newest = by_bench["scale-listing"][0]["explain"]
    assert any("Index Scan" in row and "_listed on postings" in row for row in newest)
    assert len(created) == 1
    assert make_url(created[0]).database not in _scale_databases(postgres_admin_url)  # dropped


def test_the_full_size_is_the_issue_s():
    full = SIZES["full"]
    assert (full.postings, full.subscribers, full.searches, full.day_new) == (
        1_000_000, 100_000, 150_000, 10_000,
    )  # fmt: skip
    small = SIZES["small"]
    assert (small.postings, small.subscribers, small.searches) == (20_000, 2_000, 3_000)


def test_a_part_runs_alone(postgres_admin_url, capsys):
    lines = run("tiny", Size(postings=300, subscribers=10, searches=10, day_new=100),
                postgres_admin_url, requests=2, part="listing")  # fmt: skip
    assert {line["bench"] for line in lines} == {"scale-listing"}
    total = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (total["bench"], total["part"]) == ("scale-total", "listing")


def test_the_command_line_refuses_an_unknown_part(capsys):
    with pytest.raises(SystemExit):
        bench_main(["scale", "--part", "nothing"])
    assert "--part must be one of" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench_main(["cli", "--part", "listing"])
    assert "has no parts" in capsys.readouterr().err

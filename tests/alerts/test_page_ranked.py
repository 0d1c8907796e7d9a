"""`Page.ranked`: its shortcut (a window holding every posting read, nothing to skip) gives what
the per-match filter gives, and the filter still applies where the shortcut does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from alerts.digests.due import Due
from alerts.digests.match import Page
from alerts.digests.summary import LATE_COMMIT_SLACK
from alerts.models import SavedSearch, Subscriber
from search.matcher import Match
from search.window import Ranked

AT = datetime(2026, 11, 30, 8, tzinfo=UTC)
DAY = timedelta(days=1)
READ = (AT - DAY - LATE_COMMIT_SLACK, AT)  # the postings read: first seen in the day before AT


def _due(search_id: int, subscriber_id: int, window_start: datetime) -> Due:
    search = SavedSearch(id=search_id, subscriber_id=subscriber_id, name="s", query="manager")
    sub = Subscriber(id=subscriber_id, email=f"p{subscriber_id}@example.com", status="active")
    return Due(search, sub, AT, "2026-11-30", window_start, AT + DAY, AT)


class _Explain:
    """Writes a match without a reason (what `Page` does with a window's index)."""

    def match(self, ranked: Ranked, k: int) -> Match:
        return Match(ranked.search_id, int(ranked.ids[k]), float(ranked.scores[k]), "")


def _ranked(search_id: int, matches: list[tuple[int, float]]) -> Ranked:
    """(posting id, score) pairs, best first."""
    ids = np.array([p for p, _ in matches], np.int64)
    scores = np.array([s for _, s in matches], np.float64)
    return Ranked(search_id, np.arange(len(matches)), ids, scores, None, None, ())


def _page(read: tuple[datetime, datetime] | None, excluded: set[tuple[int, int]]) -> Page:
    first_seen = {p: AT - timedelta(hours=p) for p in range(1, 21)}  # 1 h to 20 h before AT
    hits = _ranked(1, [(p, 10.0 - p / 10) for p in range(1, 21)])
    hits2 = _ranked(2, [(p, 5.0) for p in range(1, 21, 2)])
    return Page({1: hits, 2: hits2}, {}, first_seen, set(excluded), {}, read, _Explain())


@pytest.mark.parametrize(
    ("window_start", "excluded"),
    [
        (AT - DAY, set()),  # the shortcut: the whole read window, nothing to skip
        (AT - DAY, {(7, 3), (7, 5)}),  # the subscriber skips two postings
        (AT - timedelta(hours=10), set()),  # a narrower window: postings 10 h old and older out
        (AT - 2 * DAY, {(8, 1)}),  # a wider window; another subscriber's exclusion
    ],
)
def test_ranked_equals_the_per_match_filter(
    window_start: datetime, excluded: set[tuple[int, int]]
) -> None:
    d = _due(1, 7, window_start)
    fast, plain = _page(READ, excluded), _page(None, excluded)
    assert fast.ranked(d) == plain.ranked(d)
    low = window_start - LATE_COMMIT_SLACK
    want = [
        p
        for p in plain.matches[1].ids.tolist()
        if low < plain.first_seen[p] and (7, p) not in excluded
    ]
    assert [h[1] for h in fast.ranked(d)] == want


def test_a_take_makes_the_subscribers_next_search_skip_those_postings() -> None:
    page = _page(READ, set())
    first, second = _due(1, 7, AT - DAY), _due(2, 7, AT - DAY)
    taken = [h[1] for h in page.ranked(first)[:3]]
    assert taken == [1, 2, 3]
    page.take(7, taken)
    assert [h[1] for h in page.ranked(second)] == [5, 7, 9, 11, 13, 15, 17, 19]
    # another subscriber's search is not touched by it
    assert len(page.ranked(_due(2, 8, AT - DAY))) == 10


@pytest.mark.parametrize("cap", [0, 1, 3, 25])
@pytest.mark.parametrize(
    ("window_start", "excluded", "read"),
    [
        (AT - DAY, set(), READ),  # nothing to skip
        (AT - DAY, {(7, 1), (7, 4), (7, 20)}, READ),  # skips, counted without the filter
        (AT - DAY, {(7, 3)}, None),  # read bounds unknown: the filter
        (AT - timedelta(hours=10), {(7, 2)}, READ),  # a narrower window: the filter
    ],
)
def test_top_is_ranked_s_first_cap_and_its_length(
    cap: int, window_start: datetime, excluded: set[tuple[int, int]], read
) -> None:
    d = _due(1, 7, window_start)
    page, plain = _page(read, excluded), _page(None, excluded)
    best, count = page.top(d, cap)
    want = plain.ranked(d)
    assert (best, count) == (want[:cap], len(want))


def test_top_skips_what_the_subscriber_s_earlier_search_took() -> None:
    page = _page(READ, set())
    best, count = page.top(_due(1, 7, AT - DAY), 3)
    assert count == 20
    page.take(7, [h[1] for h in best])
    assert [h[1] for h in page.top(_due(2, 7, AT - DAY), 25)[0]] == [5, 7, 9, 11, 13, 15, 17, 19]
    assert page.top(_due(2, 7, AT - DAY), 2)[1] == 8
    assert page.top(_due(2, 8, AT - DAY), 25)[1] == 10  # another subscriber's: untouched

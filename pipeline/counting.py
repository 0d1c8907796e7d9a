"""A stage's per-item counts into Scrapy's stats, without Scrapy's wrapping of every call.

Scrapy's `StatsCollector` wraps its methods anew on each attribute access (`__getattribute__`)
in a check that warns when a `spider` argument is passed (deprecated): ~1.6 us of an
`inc_value` call's ~2 us, paid once or twice per item and stage. The stages never pass one, so
they call Scrapy's own method directly; another collector's `inc_value` is called as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MethodType
from typing import Any

from scrapy.statscollectors import StatsCollector


def incrementer(stats: Any) -> Callable[[str], None]:
    """`stats.inc_value` for counting one key by one; with no stats (None), counts nothing."""
    if stats is None:
        return _nothing
    method = getattr(type(stats), "inc_value", None)
    if method is StatsCollector.inc_value:  # Scrapy's, not overridden: no wrapper needed
        return MethodType(method, stats)
    inc: Callable[[str], None] = stats.inc_value
    return inc


def _nothing(key: str) -> None:
    """Counts nothing: a stage built without stats."""

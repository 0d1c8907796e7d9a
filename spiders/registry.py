"""Which spider class crawls which source kind."""

from __future__ import annotations

from spiders.ashby import AshbySpider
from spiders.base import JobSpider
from spiders.greenhouse import GreenhouseSpider
from spiders.himalayas import HimalayasSpider
from spiders.jsonld import JsonLdSpider
from spiders.lever import LeverSpider
from spiders.rss import RssSpider
from spiders.smartrecruiters import SmartRecruitersSpider
from spiders.workday import WorkdaySpider

SPIDERS: dict[str, type[JobSpider]] = {
    cls.kind: cls
    for cls in (
        WorkdaySpider,
        SmartRecruitersSpider,
        GreenhouseSpider,
        LeverSpider,
        AshbySpider,
        HimalayasSpider,
        JsonLdSpider,
        RssSpider,
    )
}


def spider_for(kind: str) -> type[JobSpider]:
    """The spider class of a kind; `KeyError` names the known kinds."""
    try:
        return SPIDERS[kind]
    except KeyError:
        raise KeyError(
            f"no spider for kind {kind!r}; known: {', '.join(sorted(SPIDERS))}"
        ) from None

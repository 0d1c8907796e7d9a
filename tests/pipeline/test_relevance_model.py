"""Table-driven tests of the title model: each class of title in each language, the exclusions,
the description tie-breaks, and the word-list syntax an operator edits."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.relevance import RoleProfile, classify, load_profile
from pipeline.relevance_model import compile_word


@pytest.fixture(scope="module")
def profile() -> RoleProfile:
    return load_profile()


# Titles kept on the title alone, by class and language. None of them is in the reference file
# as written: they test the parts (leader, area, language forms), not a list of titles.
KEPT = {
    "process supervisors (en)": [
        "Molding Supervisor",
        "Extrusion Supervisor - Nights",
        "Packaging Supervisor",
        "Die Cast Supervisor",
        "Welding Supervisor",
        "Paint Line Supervisor",
        "Tool Room Supervisor",
        "Paper Machine Supervisor",
        "Bottling Supervisor",
        "Bakery Supervisor",
        "Assembly Supervisor",
        "Fabrication Supervisor",
        "Injection Moulding Team Leader",
        "CNC Machining Department Supervisor",
    ],
    "process and plant managers (en)": [
        "Manufacturing Team Manager",
        "Team Manager - Snack Foods",
        "Foundry Manager",
        "Distillery Manager",
        "Sawmill Superintendent",
        "Head of Assembly",
        "Bottling Hall Manager",
        "Director, Plastics Operations",
        "Brewery Operations Manager",
    ],
    "generic areas under a floor leader (en)": [
        "Zone Leader",
        "Area Leader",
        "Line Leader",
        "Shift Leader",
        "Department Supervisor",
        "Production Zone Leader",
    ],
    "older english forms": [
        "Molding Foreman",
        "Assembly Forewoman",
        "Mill Overseer",
        "Foundry Chargehand",
        "Sewing Room Foremen",
        "Refinery Superintendent",
    ],
    "french, feminine and inclusive": [
        "Superviseuse de production",
        "Superviseur·e de fabrication",
        "Cheffe d’atelier usinage",
        "Chef d'équipe de production H/F",
        "Contremaîtresse en fonderie",
        "Responsable de fabrication (H/F)",
        "Responsable de production agroalimentaire",
        "Directrice d'usine",
        "Cheffe d'équipe conditionnement",
    ],
    "spanish, both genders": [
        "Encargada de producción",
        "Encargado de montaje",
        "Jefa de turno de producción",
        "Jefe de equipo de envasado",
        "Jefa de planta",
        "Directora de operaciones de producción",
        "Supervisora de línea de embotellado",
        "Director de fábrica",
    ],
    "german with (m/w/d) and *in forms": [
        "Schichtleiter (m/w/d) Fertigung",
        "Fertigungsleiterin",
        "Werkleiter (m/w/d)",
        "Betriebsleiter Produktion (m/w/d)",
        "Teamleiter Produktion (m/w/d)",
        "Produktionsmeister*in",
        "Industriemeister Metall (m/w/d)",
        "Meisterin Kunststofftechnik",
    ],
}

# Titles dropped on the title alone, with the reason that names the drop.
DROPPED = {
    "media and stage": [
        ("Tour Production Manager", "media_production"),
        ("Radio Production Manager", "media_production"),
        ("News Production Supervisor", "media_production"),
        ("Live Show Production Manager", "media_production"),
        ("Stage Manager", "media_production"),
        ("directeur de production de spectacles", "media_production"),
        ("director de producción escénica", "media_production"),
        ("Print Production Supervisor", "media_production"),
        ("Event Production Lead", "media_production"),
    ],
    "software, sales, logistics, HR, services": [
        ("Software Production Manager", "unrelated"),
        ("Export Manager - Meat Products", "commerce"),
        ("Distribution Manager, Chemicals", "commerce"),
        ("Warehouse Shift Supervisor", "commerce"),
        ("Directora de ventas industriales", "commerce"),
        ("HR Manager - Manufacturing", "unrelated"),
        ("Human Resources Plant Manager", "human_resources"),
        ("Customer Service Supervisor", "services"),
        ("Restaurant Shift Leader", "services"),
    ],
    "outside manufacturing": [
        ("Mine Production Manager", "non_manufacturing"),
        ("Aquaculture Production Supervisor", "non_manufacturing"),
        ("Power Plant Supervisor", "non_manufacturing"),
        ("Wastewater Treatment Plant Manager", "non_manufacturing"),
    ],
    "other functions and individual contributors": [
        ("Molding Quality Supervisor", "unrelated"),
        ("Supervisor of Molding Quality", "other_function"),
        ("Gerente de mantenimiento de planta", "other_function"),
        ("Lead Extrusion Operator", "individual_contributor"),
        ("Assembly Technician Lead", "individual_contributor"),
        ("Production Planner", "non_management"),
        ("Operador de producción", "shop_floor_role"),
        ("Encargado del funcionamiento de la máquina de envasado", "individual_contributor"),
    ],
}


def _cases(table: dict[str, list]) -> list:
    return [
        pytest.param(kind, case, id=f"{kind}: {case}")
        for kind, cases in table.items()
        for case in cases
    ]


@pytest.mark.parametrize(("kind", "title"), _cases(KEPT))
def test_kept_on_the_title(profile: RoleProfile, kind: str, title: str) -> None:
    verdict = classify(title, None, profile)
    assert verdict.keep, (kind, verdict)
    assert verdict.words, "a kept title names the words that kept it"


@pytest.mark.parametrize(("kind", "case"), _cases(DROPPED))
def test_dropped_on_the_title(profile: RoleProfile, kind: str, case: tuple[str, str]) -> None:
    title, reason = case
    verdict = classify(title, None, profile)
    assert (verdict.keep, verdict.reason) == (False, reason), (kind, verdict)


# The same title, decided by what the description (or the company) says.
TIE_BREAKS = [
    ("Production Manager", "Injection molding plant, 3 shifts, OEE and lean.", None, True),
    ("Production Manager", "Our film studio: episodes, crew call, broadcast.", None, False),
    ("Production Director", "GMP manufacturing site, packaging lines.", None, True),
    ("Production Director", "Touring live shows and festival stages.", None, False),
    ("Production Supervisor", "Assembly line, shift of 40 operators, 5S.", None, True),
    ("Production Supervisor", "Venue operations for our concert tour.", None, False),
    ("Operations Manager", "Food manufacturing plant, HACCP, lines.", None, True),
    ("Operations Manager", "Our call center and customer support team.", None, False),
    ("Plant Manager", "Dairy processing plant, HACCP, three shifts.", None, True),
    ("Plant Manager", "Coal-fired power station: turbines, 600 megawatts.", None, False),
    ("Plant Manager", "Gold mine, ore processing plant, mining fleet.", None, False),
    ("Plant Manager", "", "Riverbend Hydro Power", False),
    ("Production Manager", "Row crops and livestock on 4,000 acres.", "Sunrise Farms", False),
    ("Shift Supervisor", "Retail store, opening and closing shifts.", None, False),
    ("Shift Supervisor", None, None, True),
    ("Department Manager", "Molding department of our automotive plant.", None, True),
    ("Department Manager", "Grocery store, customer service.", None, False),
    ("Contremaître", "Usine de production, équipes en 3x8.", None, True),
    ("Chargehand", "Building site, construction crew.", None, False),
]


@pytest.mark.parametrize(("title", "description", "company", "keep"), TIE_BREAKS)
def test_description_decides(
    profile: RoleProfile, title: str, description: str | None, company: str | None, keep: bool
) -> None:
    verdict = classify(title, description, profile, company)
    assert verdict.keep is keep, verdict
    if description or company:
        # the words that decided are named: the description's, marked + or -, or a veto's
        assert verdict.words, verdict


def test_description_names_the_deciding_words(profile: RoleProfile) -> None:
    kept = classify("Operations Manager", "Run our bottling plant; OEE and lean.", profile)
    assert kept.reason == "plant_context" and {"+plant", "+oee", "+lean"} <= set(kept.words)
    dropped = classify("Production Manager", "A film studio: episodes and crew call.", profile)
    assert dropped.reason == "media_production"
    assert {"film", "episodes", "crew call"} <= set(dropped.words)


@pytest.mark.parametrize(
    ("entry", "matches", "misses"),
    [
        ("charge hand", ["chargehand", "charge-hand", "charge hand"], ["charge handling"]),
        ("chef d'atelier", ["chef d'atelier", "chef d atelier"], ["chef datelierx"]),
        ("assembl*", ["assembly", "assembling room"], ["reassembly"]),
        ("*leiter", ["fertigungsleiter", "leiter"], ["leiterin"]),
        ("Producción", ["produccion"], ["producciones"]),
    ],
)
def test_word_syntax(entry: str, matches: list[str], misses: list[str]) -> None:
    rule = compile_word(entry, "test")
    for text in matches:
        assert rule.search(text) is not None, (entry, text)
    for text in misses:
        assert rule.search(text) is None, (entry, text)


def test_an_operator_adds_a_word_without_code(tmp_path: Path, profile: RoleProfile) -> None:
    assert not classify("Cidermaking Supervisor", None, profile).keep
    custom = tmp_path / "winery.toml"
    custom.write_text(
        "[title_model]\nsupervisors = ['supervisor']\nareas = ['cidermaking', 'cellar*']\n"
        "[title_model.exclude]\nservices = ['tasting room']\n",
        encoding="utf-8",
    )
    winery = load_profile(custom)
    assert classify("Cidermaking Supervisor", None, winery).reason == "title_model"
    assert classify("Cellar Supervisor", None, winery).keep
    assert classify("Tasting Room Supervisor", None, winery).reason == "services"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[title_model]\nareas = 'plant'\n", "must be a list of strings"),
        ("[title_model]\nbosses = ['boss']\n", "unknown \\[title_model\\] lists"),
        ("[title_model]\nareas = ['**']\n", "empty word"),
        ("[title_model]\nexclude = ['x']\n", "must be a table"),
    ],
)
def test_bad_word_lists_are_refused(tmp_path: Path, text: str, message: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_profile(bad)

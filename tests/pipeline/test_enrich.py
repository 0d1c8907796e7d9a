"""Derived fields: workplace, employment type, seniority, industries, skills."""

from __future__ import annotations

import pytest

from pipeline.enrich import employment_type, industries, seniority, skills, workplace


@pytest.mark.parametrize(
    ("hint", "remote", "locations", "description", "expected"),
    [
        ("remote", None, [], None, "remote"),
        ("TELECOMMUTE", None, [], None, "remote"),
        ("on-site", None, [], None, "onsite"),
        ("OnSite", None, [], None, "onsite"),
        ("Hybrid", True, [], None, "hybrid"),
        ("unspecified", True, [], None, "remote"),
        (None, None, ["Hybrid - London"], None, "hybrid"),
        (None, None, ["Remote - US"], None, "remote"),
        (None, None, ["Dearborn, MI"], "We are a plant. Some office roles may be remote.", None),
        (None, None, ["Dearborn, MI"], "Remote:\nNo\nJob Description: ...", "onsite"),
        (None, None, [], "This is a 100% on-site position in our plant.", "onsite"),
        (None, None, [], "This is a fully remote role.", "remote"),
        (None, None, [], "This is a hybrid role with 3 days in the plant.", "hybrid"),
        (None, None, [], "x" * 3000 + " This is a fully remote role.", None),
        (None, False, ["Bursa, Turkey"], None, "onsite"),
        (None, None, [], None, None),
    ],
)
def test_workplace(
    hint: str | None, remote: bool | None, locations: list[str], description: str | None,
    expected: str | None,
) -> None:  # fmt: skip
    assert workplace(hint, remote, locations, description) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Full Time", "full_time"),
        ("FULL_TIME", "full_time"),
        ("Full-time", "full_time"),
        ("FullTime", "full_time"),
        ("permanent", "full_time"),
        ("Regular", "full_time"),
        ("Vollzeit", "full_time"),
        ("Part Time", "part_time"),
        ("PART_TIME", "part_time"),
        ("Contractor", "contract"),
        ("CONTRACTOR", "contract"),
        ("Contract", "contract"),
        ("Intern", "internship"),
        ("INTERN", "internship"),
        ("Temporary", "temporary"),
        (["VOLUNTEER", "FULL_TIME"], "full_time"),
        ("Volunteer", None),
        ("Other", None),
        (None, None),
        ([], None),
    ],
)
def test_employment_type(raw: str | list[str] | None, expected: str | None) -> None:
    assert employment_type(raw) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Production Supervisor", "supervisor"),
        ("Shift Supervisor - 2nd Shift", "supervisor"),
        ("Team Leader - Assembly", "supervisor"),
        ("Production Lead", "supervisor"),
        ("Schichtleiter (m/w/d) Produktion", "supervisor"),
        ("Shift Manager", "supervisor"),
        ("Assistant Production Manager", "assistant"),
        ("Associate Production Manager", "assistant"),
        ("Deputy Plant Manager", "assistant"),
        ("Production Manager", "manager"),
        ("Plant Manager", "manager"),
        ("Production Superintendent", "manager"),
        ("Produktionsleiter (m/w/d)", "manager"),
        ("Leiter Produktion", "manager"),
        ("Senior Production Manager", "senior"),
        ("Sr. Manufacturing Manager", "senior"),
        ("General Manager - Plant", "senior"),
        ("Director of Manufacturing", "director"),
        ("Senior Director, Operations", "director"),
        ("Production Director", "director"),
        ("Head of Production", "executive"),
        ("VP Operations", "executive"),
        ("Vice President, Manufacturing", "executive"),
        ("COO", "executive"),
        ("Chief Operating Officer", "executive"),
        ("Maintenance Worker", None),
        ("", None),
        (None, None),
    ],
)
def test_seniority(title: str | None, expected: str | None) -> None:
    assert seniority(title) == expected


@pytest.mark.parametrize(
    ("title", "company", "description", "extra", "expected"),
    [
        ("Production Manager", "Tyson Foods", None, None, ["manufacturing", "food_beverage"]),
        ("Plant Manager", "The Boeing Company", None, None, ["manufacturing", "aerospace"]),
        ("Production Supervisor", "Pfizer", None, None, ["manufacturing", "pharma"]),
        ("Production Manager", "General Motors", None, None, ["manufacturing", "automotive"]),
        ("Production Manager", "GM", None, None, ["manufacturing", "automotive"]),
        ("Logistics Section Manager", "Bosch Group", "", None, ["manufacturing", "automotive"]),
        (
            "Production Manager",
            "Acme",
            "We run an injection molding plant. Injection moulding "
            "of polymers for medical devices.",
            None,
            ["manufacturing", "plastics"],
        ),
        ("Video Production Manager", "Netflix", "We make shows with free food.", None, []),
        (
            "Plant Manager",
            "Acme",
            "Our dairy makes cheese. Dairy experience required.",
            None,
            ["manufacturing", "food_beverage"],
        ),
        (
            "Production Manager",
            "Acme",
            None,
            {"department": "Aerospace Structures"},
            ["manufacturing", "aerospace"],
        ),
        (
            "Maintenance Worker",
            "Hitachi Energy",
            None,
            {"category": "Production & Skilled Trades"},
            ["manufacturing", "energy"],
        ),
        ("Operations Manager", "Acme Logistics", "We run a warehouse.", None, []),
    ],
)
def test_industries(
    title: str, company: str, description: str | None, extra: dict | None, expected: list[str]
) -> None:
    assert industries(title, company, description, extra) == expected


def test_skills_vocabulary() -> None:
    text = (
        "Lean manufacturing, Six Sigma Green Belt, 5S, kaizen, value stream mapping, ERP, SAP "
        "S/4HANA, Oracle, Microsoft Dynamics 365, MRP, ISO 9001, TQM, JIT, cGMP, HACCP, "
        "IATF 16949, AS9100D, OSHA 30, CMMS, OEE, TPM, Power BI, Tableau, APICS CPIM, CSCP, PMP"
    )
    assert skills(text) == [
        "lean", "six_sigma", "kaizen", "5s", "value_stream_mapping", "erp", "sap", "oracle",
        "dynamics", "mrp", "iso_9001", "tqm", "jit", "gmp", "haccp", "iatf_16949", "as9100",
        "osha", "cmms", "oee", "tpm", "power_bi", "tableau", "cpim", "cscp", "pmp",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        "Keep the floor clean and lean on your team.",
        "We machine 25S parts and 15S housings.",
        "Maple sap, asap, sapling.",
        "Arrive just in time for the meeting.",
        "A tableau de bord and good team dynamics.",
        "The oracle of Delphi; jitter.",
    ],
)
def test_skills_false_positives(text: str) -> None:
    assert skills(text) == []


def test_skills_phrases() -> None:
    assert skills(
        "Experience with good manufacturing practice and total productive maintenance"
    ) == [
        "gmp",
        "tpm",
    ]
    assert skills("") == []


@pytest.mark.parametrize(
    "description",
    [
        "Our biologics plant makes monoclonal antibodies under cGMP; you lead the downstream shift.",
        "Supervise aseptic fill-finish of sterile injectables in a cGMP suite.",
        "A cell therapy manufacturing site: lead production technicians under GMP.",
    ],
)
def test_a_biologics_plant_is_pharma(description: str) -> None:
    found = industries("Production Supervisor", "Northwind Biologics", description)
    assert "pharma" in found
    assert "manufacturing" in found


def test_skill_prefilter_finds_what_the_patterns_alone_find():
    """The literal pre-check never hides a skill that its pattern would match."""
    from pipeline.enrich import _SKILLS

    texts = [
        "Lean, 6S, 5S and Six-Sigma Black Belt; VSM and value-stream mapping; SAP and JD Edwards",
        "MRP II, materials requirement planning, ISO-9001, Total Quality Management, Just-in-Time",
        "cGMPs, good manufacturing practice, HACCP, TS 16949, AS9100D, OSHA, CMMS, OEE, TPM",
        "total productive maintenance, PowerBI, Tableau, CPIM, CSCP, PMP, Microsoft Dynamics, D365",
        "6σ and 6Σ; KAıZEN with a dotless i; ſap; oracle ORACLE JDE; ERP",
    ]
    for text in texts:
        alone = [skill for skill, pattern in _SKILLS.items() if pattern.search(text)]
        assert skills(text) == alone
    assert len(skills(" ".join(texts))) == len(_SKILLS)

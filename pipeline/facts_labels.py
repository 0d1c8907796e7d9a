"""The plant facts' vocabulary (`pipeline.facts`) and how a posting shows and stores them."""

from __future__ import annotations

from typing import Any

SHIFTS = ("1st", "2nd", "3rd", "rotating", "12_hour", "weekends", "on_call")
STANDARDS = (
    "gmp", "fda", "as9100", "iatf_16949", "iso_13485", "iso_9001", "iso_14001", "sqf", "brcgs",
    "fssc_22000", "haccp", "osha_psm",
)  # fmt: skip
STANDARD_LABELS = {
    "gmp": "GMP", "fda": "FDA", "as9100": "AS9100", "iatf_16949": "IATF 16949",
    "iso_13485": "ISO 13485", "iso_9001": "ISO 9001", "iso_14001": "ISO 14001", "sqf": "SQF",
    "brcgs": "BRCGS", "fssc_22000": "FSSC 22000", "haccp": "HACCP", "osha_psm": "OSHA PSM",
}  # fmt: skip
SHIFT_LABELS = {
    "1st": "1st shift", "2nd": "2nd shift", "3rd": "3rd shift", "rotating": "rotating shifts",
    "12_hour": "12-hour shifts", "weekends": "weekends", "on_call": "on call",
}  # fmt: skip


def fact_labels(facts: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(short label, quote) per fact, in a fixed order: what digests and pages show."""
    if not facts:
        return []
    out: list[tuple[str, str]] = []
    for f in facts.get("shifts", ()):
        out.append((SHIFT_LABELS.get(f["value"], f["value"]), f["quote"]))
    if team := facts.get("team_size"):
        out.append((f"leads {team['value']}", team["quote"]))
    for f in facts.get("standards", ()):
        label = STANDARD_LABELS.get(f["value"], f["value"])
        out.append((f"{label} (preferred)" if f.get("preferred") else label, f["quote"]))
    if union := facts.get("union"):
        out.append(("union" if union["value"] == "union" else "non-union", union["quote"]))
    if relo := facts.get("relocation"):
        out.append(("relocation" if relo["value"] else "no relocation", relo["quote"]))
    if travel := facts.get("travel"):
        share = travel["value"]
        out.append((f"travel {share}%" if share else "no travel", travel["quote"]))
    return out


def fact_columns(facts: dict[str, Any]) -> dict[str, Any]:
    """The posting columns searches filter on, derived from the facts (all mentions count)."""
    team = facts.get("team_size")
    return {
        "facts": facts,
        "shifts": [f["value"] for f in facts.get("shifts", ())],
        "standards": [f["value"] for f in facts.get("standards", ())],
        "team_size": team["value"] if team else None,
    }

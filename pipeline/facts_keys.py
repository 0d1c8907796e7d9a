"""What users type for a plant fact ("night", "2nd shift", "ISO 9001") → the value facts store."""

from __future__ import annotations

_SHIFT_WORDS = {
    "1st": "1st", "first": "1st", "day": "1st", "days": "1st", "2nd": "2nd", "second": "2nd",
    "swing": "2nd", "afternoon": "2nd", "3rd": "3rd", "third": "3rd", "night": "3rd",
    "nights": "3rd", "rotating": "rotating", "rotation": "rotating", "12hour": "12_hour",
    "12hours": "12_hour", "12h": "12_hour", "12hr": "12_hour", "weekend": "weekends",
    "weekends": "weekends", "oncall": "on_call",
}  # fmt: skip
_STANDARD_WORDS = {
    "cgmp": "gmp", "as9100d": "as9100", "iatf": "iatf_16949", "iatf16949": "iatf_16949",
    "iso13485": "iso_13485", "iso9001": "iso_9001", "iso14001": "iso_14001", "brc": "brcgs",
    "fssc": "fssc_22000", "fssc22000": "fssc_22000", "psm": "osha_psm", "oshapsm": "osha_psm",
}  # fmt: skip


def _squash(value: str) -> str:
    return "".join(ch for ch in value.lower() if ch.isalnum())


def shift_key(value: str) -> str:
    """What a user types for a shift ("night", "2nd shift", "12-hour") → its fact value."""
    squashed = _squash(value).removesuffix("shifts").removesuffix("shift")
    return _SHIFT_WORDS.get(squashed, squashed)


def standard_key(value: str) -> str:
    """What a user types for a standard ("ISO 9001", "cGMP", "IATF") → its fact value."""
    squashed = _squash(value)
    return _STANDARD_WORDS.get(squashed, squashed)

"""Every setting of `config.Settings` has a row in the README's configuration table, and back."""

from __future__ import annotations

import re
from pathlib import Path

from config import Settings

README = Path(__file__).resolve().parents[1] / "README.md"
# Read by config.py itself to find andon.toml, so not a field of Settings.
NOT_FIELDS = {"ANDON_CONFIG"}


def readme_settings() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `(ANDON_[A-Z0-9_]+)` \|", section, flags=re.MULTILINE)


def test_every_setting_is_in_the_readme_table() -> None:
    documented = readme_settings()
    fields = {f"ANDON_{name.upper()}" for name in Settings.model_fields}
    assert not fields - set(documented), "undocumented settings: add a README table row"
    assert not set(documented) - fields - NOT_FIELDS, "README rows for settings that do not exist"
    assert len(documented) == len(set(documented)), "a setting has two rows"


def test_the_table_is_where_the_test_looks() -> None:
    # Guards the parser: an empty or moved table must not make the test above pass vacuously.
    assert "ANDON_DATABASE_URL" in readme_settings()
    assert len(readme_settings()) >= 20

"""PostgreSQL's search vector (migration 0012) equals 0004's fully folded one, text by text."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

_VERSIONS = Path(__file__).resolve().parents[2] / "migrations/versions"
TEXTS = [
    ("Gerente de Producción", "Nestlé", "Führung der Schicht, responsable d'unité"),
    ("Production Manager", "Acme Foods", "Lead 3 shifts – HACCP • SQF, 24/7 “plant”"),
    ("Łódź plant lead", None, "Zürich, Kraków, São Paulo, ÅÇÈ ÿ Ű"),
    (None, None, None),
    ("", "ÀÀÀ", "plain ascii only"),
]


def _migration(name: str):
    spec = importlib.util.spec_from_file_location(name, _VERSIONS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_guarded_vector_equals_the_always_folded_one(postgres_template):
    url = make_url(postgres_template).set(drivername="postgresql")
    new = _migration("0012_search_vector_fold_when_needed")
    old = _migration("0004_unaccented_search")
    assert new.vector(guarded=False) == old._vector(fold=True)
    with psycopg.connect(url.render_as_string(hide_password=False)) as conn:
        conn.execute("CREATE TEMP TABLE t (title text, company text, description_text text)")
        for row in TEXTS:
            conn.execute("INSERT INTO t VALUES (%s, %s, %s)", row)
        rows = conn.execute(
            f"SELECT ({new.vector(guarded=True)})::text, ({old._vector(fold=True)})::text FROM t"
        ).fetchall()
        # and the migrated column is the guarded one
        expr = conn.execute(
            "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a "
            "ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
            "WHERE d.adrelid = 'postings'::regclass AND a.attname = 'search_vector'"
        ).fetchall()[0][0]
    assert [guarded for guarded, _ in rows] == [folded for _, folded in rows]
    assert "'producc'" not in rows[0][0] and "'produccion':3A" in rows[0][0]
    assert "CASE" in expr and "translate" in expr


def test_every_accented_letter_triggers_the_fold(postgres_template):
    url = make_url(postgres_template).set(drivername="postgresql")
    new = _migration("0012_search_vector_fold_when_needed")
    with psycopg.connect(url.render_as_string(hide_password=False)) as conn:
        matched = [
            conn.execute(f"SELECT %s ~ '[{new.ACCENTED}]'", (f"ab{letter}cd",)).fetchall()[0][0]
            for letter in [*new.ACCENTED, "-", "a", "]", "^"]
        ]
    assert matched == [True] * len(new.ACCENTED) + [False] * 4

"""PostgreSQL full-text search without accents, as SQLite's FTS5 and the alert matcher do.

`unaccent()` is not IMMUTABLE, so a generated column cannot use it; `translate()` is, and maps
the accented Latin letters job titles use ("Producción", "Führung", "Responsable d'unité")
to their base letters. SQLite is unchanged (FTS5 `remove_diacritics 2` already does this).

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACCENTED = "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöøùúûüýÿŁłŚśŹźŻżĆćŃńĄąĘęŠšŽžČčŘřĚěŮůŐőŰű"
BASE = "AAAAAACEEEEIIIINOOOOOOUUUUYaaaaaaceeeeiiiinoooooouuuuyyLlSsZzZzCcNnAaEeSsZzCcRrEeUuOoUu"


def _vector(fold: bool) -> str:
    def col(name: str) -> str:
        value = f"coalesce({name}, '')"
        return f"translate({value}, '{ACCENTED}', '{BASE}')" if fold else value

    return (
        f"setweight(to_tsvector('simple', {col('title')}), 'A') || "
        f"setweight(to_tsvector('simple', {col('company')}), 'B') || "
        f"setweight(to_tsvector('simple', {col('description_text')}), 'C')"
    )


def _replace(fold: bool) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_postings_search_vector")
    op.execute("ALTER TABLE postings DROP COLUMN IF EXISTS search_vector")
    op.execute(
        f"ALTER TABLE postings ADD COLUMN search_vector tsvector "
        f"GENERATED ALWAYS AS ({_vector(fold)}) STORED"
    )
    op.execute("CREATE INDEX ix_postings_search_vector ON postings USING gin (search_vector)")


def upgrade() -> None:
    _replace(fold=True)


def downgrade() -> None:
    _replace(fold=False)

"""`andon init`: create or upgrade the database."""

from __future__ import annotations

from commands.base import app, engine, friendly, out


@app.command()
@friendly
def init() -> None:
    """Create or upgrade the database."""
    import db

    eng = engine(check=False)
    before, after = db.migrate(eng)
    where = db.safe_url(eng)
    if before == after:
        out.print(f"database at {where} is up to date (revision {after})", highlight=False)
    elif before is None:
        out.print(f"created the database at {where} (revision {after})", highlight=False)
    else:
        out.print(f"upgraded the database at {where} from {before} to {after}", highlight=False)

"""`andon relevance explain|score`: why a title is kept or dropped, and how well a profile does."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from pipeline.relevance import RoleProfile

app = typer.Typer(
    help="Check the relevance stage: explain one title, score a labelled file.",
    no_args_is_help=True,
    add_completion=False,
)

ProfileOption = Annotated[
    Path | None,
    typer.Option(
        "--profile",
        help="A role profile TOML file (default: the built-in pipeline/role_profile.toml)",
        exists=True,
        dir_okay=False,
    ),
]


def _profile(path: Path | None) -> RoleProfile:
    # imported here, not at the top: `andon --help` must not compile the profile
    from pipeline.relevance import load_profile

    try:
        return load_profile(path)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _clean(text: str) -> str:
    # Titles and words come from the command line or a file: no terminal escapes in the output.
    return "".join(ch if ch.isprintable() else "?" for ch in text)


@app.command()
def explain(
    title: Annotated[str, typer.Argument(help="The job title, as a posting gives it")],
    description: Annotated[
        Path | None,
        typer.Option(
            "--description",
            help="A file with the posting's description (text or HTML)",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    company: Annotated[
        str | None, typer.Option("--company", help="The company's name or industry")
    ] = None,
    profile: ProfileOption = None,
) -> None:
    """Print whether TITLE is kept, the rule that decided and the words it found."""
    from pipeline.relevance import classify, html_to_text

    text = None
    if description is not None:
        text = description.read_text(encoding="utf-8", errors="replace")
        if "<" in text and ">" in text:
            text = html_to_text(text)
    verdict = classify(title, text, _profile(profile), company)
    from pipeline.relevance_text import MAX_TITLE_CHARS

    shown = title if len(title) <= MAX_TITLE_CHARS else f"{title[:MAX_TITLE_CHARS]}… (cut: a title)"
    typer.echo(f"{'kept' if verdict.keep else 'dropped'}: {_clean(shown)}")
    typer.echo(f"  reason: {verdict.reason}")
    if verdict.matched:
        typer.echo(f"  rule:   {_clean(verdict.matched)}")
    if verdict.words:
        typer.echo(f"  words:  {_clean(', '.join(verdict.words))}")
    if any(w[:1] in "+-" for w in verdict.words):
        typer.echo("  (+word: plant evidence, -word: evidence of another workplace)")


@app.command()
def score(
    file: Annotated[
        Path,
        typer.Argument(
            help="A labelled TSV: title<TAB>relevant|irrelevant|ambiguous<TAB>source[<TAB>description]",
            exists=True,
            dir_okay=False,
        ),
    ],
    errors: Annotated[bool, typer.Option(help="List the misclassified titles")] = True,
    profile: ProfileOption = None,
) -> None:
    """Print precision and recall per subset of a labelled title file (ambiguous rows left out)."""
    from pipeline.relevance_score import read_rows, report_lines
    from pipeline.relevance_score import score as tally

    try:
        rows = list(read_rows(file))
    except (ValueError, UnicodeDecodeError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    for line in report_lines(tally(rows, _profile(profile)), errors=errors):
        typer.echo(_clean(line))

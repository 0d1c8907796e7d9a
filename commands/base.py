"""What every `andon` command shares: the Typer app, safe consoles, error handling, settings."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import typer

if TYPE_CHECKING:
    from config import Settings


def _metavar(param: Any) -> str:
    """What `--help` shows after an option: nothing for a flag, TEXT/NUMBER/INTEGER for a value."""
    if getattr(param, "is_flag", False):
        return ""
    label = str(param.display_type(None)).strip("<>").removeprefix("list[").removesuffix("]")
    return {"str": "TEXT", "float": "NUMBER", "int": "INTEGER"}.get(label, label.upper())


class _CleanHelp:
    """Typer prints `--dry-run <bool>` and `<list[str]>`; show flags bare and values by kind."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        for param in self.get_params(ctx):  # type: ignore[attr-defined]
            if param.param_type_name == "argument":
                # the name column says it (QUERY, NAMES...); a type column would repeat it
                param.display_type_rich = lambda ctx: ""
                param.metavar = param.metavar or param.name.upper()
            elif param.metavar is None:
                param.metavar = _metavar(param)
        super().format_help(ctx, formatter)  # type: ignore[misc]


class CleanHelpCommand(_CleanHelp, typer.core.TyperCommand):
    """A command whose `--help` shows proper metavars."""


class CleanHelpGroup(_CleanHelp, typer.core.TyperGroup):
    """A group whose `--help` shows proper metavars."""


def clean_help(*apps: typer.Typer) -> None:
    """Give every command of `apps` (and the apps themselves) the clean `--help`.

    Plain (click-style) help: Rich's help formatter imports markdown, syntax and traceback
    support, about 0.4 s of CPU before `andon --help` prints a line.
    """
    for each in apps:
        each.rich_markup_mode = None
        if each.info.cls in (None, typer.core.TyperGroup):
            each.info.cls = CleanHelpGroup
        for info in each.registered_commands:
            if info.cls in (None, typer.core.TyperCommand):
                info.cls = CleanHelpCommand


# `andon --help` and quick commands answer fast: sqlalchemy, sqlmodel, scrapy, the database and
# the packages are imported inside the commands that use them (a test keeps it so).

app = typer.Typer(
    help="andon — job alerts for production managers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class _LazyConsole:
    """A `SafeConsole` made on first use: `andon --help` need not import Rich's console."""

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._console: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from pipeline.terminal import SafeConsole

            kwargs = dict(self._kwargs)
            if kwargs.pop("pipe_width", False):
                # Not a terminal (a pipe, CI, a test): wide enough that tables keep their words.
                kwargs["width"] = None if sys.stdout.isatty() else 160
            self._console = SafeConsole(**kwargs)
        return getattr(self._console, name)


# Safe consoles: names, titles and errors quote scraped and user text; no escape sequence of
# theirs reaches the terminal (pipeline.terminal).
out: Any = _LazyConsole(soft_wrap=True, pipe_width=True)

err: Any = _LazyConsole(stderr=True, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])


class UsageError(Exception):
    """A user's mistake: one line, exit 2."""


def fail(message: str, code: int = 1) -> None:
    from rich.markup import escape

    # escaped: a message may quote "[[sources]]", which rich would take for markup
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, markup=True)
    raise typer.Exit(code)


def friendly(fn: F) -> F:
    """Turn known errors into one line on stderr: exit 2 for a user's mistake, 1 for a failure."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from pydantic import ValidationError

        from alerts.cadence import CadenceError
        from alerts.subscriptions import SubscriptionError
        from pipeline.terminal import install_log_sanitizing
        from search.sql import SearchError

        install_log_sanitizing()  # calling it twice is safe
        try:
            return fn(*args, **kwargs)
        except (SearchError, UsageError, SubscriptionError, CadenceError) as exc:
            fail(str(exc), 2)
        except _database_error() as exc:
            fail(str(exc), 1)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            fail(f"bad setting {where}: {first.get('msg')}", 2)
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except _operational_errors() as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            fail(f"database error: {reason}", 1)
        return None

    return wrapper  # type: ignore[return-value]


def _database_error() -> type[BaseException]:
    import db

    return db.DatabaseError


def _operational_errors() -> tuple[type[BaseException], ...]:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    return (OperationalError, ProgrammingError)


@functools.cache
def settings() -> Settings:
    from config import load_settings

    return load_settings()


def engine(*, check: bool = True) -> Any:
    import db

    eng = db.make_engine(settings().database_url)
    if check:
        db.ensure_current(eng)
    return eng

"""Feedback from a digest: Not relevant, Hide this company, Applied — applied, undone, counted.

Each job in a digest carries three signed links (`feedback_url`); the token names the
subscriber, the saved search, the posting and the action, and expires after
`FEEDBACK_MAX_AGE_S`. The link opens a page whose button confirms (mail scanners fetch links);
the POST calls `apply_feedback`, which records one `Feedback` row per (subscriber, posting,
action) — the unique key makes a replayed link change nothing — and:

- *not_relevant* adds to that saved search the title words that made it match, as
  `-"quality"` (the query's alternatives that the title hit), or, when only required words or
  filters matched (excluding those would empty the search), the company to its excluded
  companies;
- *hide_company* adds the company to the excluded companies of every search of the subscriber;
- *applied* records the posting's dedup keys: later digests leave out the posting, its
  re-posts (merged into it by the store) and copies under the same company and title keys.

`undo_feedback` reverts exactly what the row says it changed. `not_relevant_counts` is what
`andon status` and `/ops` show: which relevance rules and sources draw the most Not relevant.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, select
from sqlmodel import Session, col

from alerts.models import FEEDBACK_ACTIONS, Feedback, SavedSearch, Subscriber
from alerts.tokens import BadToken, make_token, read_token
from db import utcnow
from pipeline.models import Posting, PostingSource
from pipeline.tokens import tokenize
from search.query import And, Not, Or, Phrase, QueryError, Term, parse_query

FEEDBACK_MAX_AGE_S = 120 * 24 * 3600  # a weekly digest read late still works; then it expires
STOPPED = ("unsubscribed", "bounced", "complained")
LABELS = {
    "not_relevant": "Not relevant",
    "hide_company": "Hide this company",
    "applied": "Applied",
}


@dataclass(frozen=True)
class FeedbackLink:
    """What a feedback token names."""

    subscriber_id: int
    search_id: int
    posting_id: int
    action: str


class FeedbackRefused(Exception):
    """A feedback link that cannot be used now; `title` and `message` are for the page."""

    def __init__(self, title: str, message: str) -> None:
        super().__init__(message)
        self.title = title
        self.message = message


def feedback_token(
    secret: str | Sequence[str], subscriber_id: int, search_id: int, posting_id: int, action: str
) -> str:
    if action not in FEEDBACK_ACTIONS:
        raise ValueError(f"unknown feedback action {action!r}")
    value = f"{subscriber_id}.{search_id}.{posting_id}.{action}"
    return make_token(secret, "feedback", value)


def read_feedback_token(secret: str | Sequence[str], token: str) -> FeedbackLink:
    """The link a token names; `BadToken("expired" | "invalid")` otherwise."""
    value = read_token(secret, "feedback", token, max_age=FEEDBACK_MAX_AGE_S)
    parts = str(value).split(".")
    if (
        len(parts) != 4
        or parts[3] not in FEEDBACK_ACTIONS
        or not all(p.isdigit() for p in parts[:3])
    ):
        raise BadToken("invalid")
    return FeedbackLink(int(parts[0]), int(parts[1]), int(parts[2]), parts[3])


@dataclass
class Target:
    """The rows a valid link acts on."""

    subscriber: Subscriber
    search: SavedSearch | None
    posting: Posting


def load_target(session: Session, link: FeedbackLink) -> Target:
    """The subscriber, search and posting of a link, or `FeedbackRefused` saying why not."""
    sub = session.get(Subscriber, link.subscriber_id)
    if sub is None:
        raise FeedbackRefused("This link is not valid", "The address it was sent to is gone.")
    if sub.status in STOPPED:
        raise FeedbackRefused(
            "You are unsubscribed",
            "This address gets no alerts any more, so there is nothing to change. "
            "Subscribe again on the home page to start over.",
        )
    posting = session.get(Posting, link.posting_id)
    if posting is None:
        raise FeedbackRefused(
            "This job is gone", "The job this link was about has been removed; nothing changed."
        )
    search = session.get(SavedSearch, link.search_id)
    if search is not None and search.subscriber_id != sub.id:
        raise FeedbackRefused("This link is not valid", "This link is damaged; nothing changed.")
    if search is None and link.action == "not_relevant":
        raise FeedbackRefused(
            "This search is gone",
            "The saved search this job came from has been deleted; nothing changed.",
        )
    return Target(sub, search, posting)


def already_given(session: Session, link: FeedbackLink) -> Feedback | None:
    return session.execute(
        select(Feedback).where(
            col(Feedback.subscriber_id) == link.subscriber_id,
            col(Feedback.posting_id) == link.posting_id,
            col(Feedback.action) == link.action,
        )
    ).scalar_one_or_none()


def apply_feedback(
    session: Session, link: FeedbackLink, *, now: datetime | None = None
) -> Feedback:
    """Record and apply one click; `FeedbackRefused` for a replayed link or a gone target."""
    target = load_target(session, link)
    if already_given(session, link) is not None:
        raise FeedbackRefused(
            "This link was used already",
            "This feedback was recorded before; nothing changed. "
            "You can see and undo it on your manage page.",
        )
    now = now or utcnow()
    row = _row(session, target, link.action, now)
    if link.action == "not_relevant":
        assert target.search is not None
        row.exclusion, row.changed_search_ids = _exclude_for_search(
            target.search, target.posting, now
        )
    elif link.action == "hide_company":
        row.exclusion = target.posting.company
        row.changed_search_ids = _exclude_company(
            session, target.subscriber, target.posting.company, now
        )
    session.add(row)
    session.flush()
    return row


def _row(session: Session, target: Target, action: str, now: datetime) -> Feedback:
    p = target.posting
    sources = session.execute(
        select(col(PostingSource.source))
        .where(col(PostingSource.posting_id) == p.id)
        .order_by(col(PostingSource.id))
    ).scalars()
    return Feedback(
        subscriber_id=target.subscriber.id,  # type: ignore[arg-type]
        saved_search_id=target.search.id if target.search else None,
        posting_id=p.id,
        action=action,
        title=p.title,
        company=p.company,
        company_key=p.company_key,
        title_key=p.title_key,
        sources=sorted(set(sources)),
        relevance_rule=p.relevance_rule,
        created_at=now,
    )


# --- Not relevant: the words that made it match -------------------------------------------------


def matched_alternatives(query: str, title: str) -> list[str]:
    """The query's alternatives (words or phrases under an OR) that the title contains, as
    exclusion clauses (`-"quality"`); none when only required words matched."""
    node = parse_query(query)
    tokens = tokenize(title)
    out: list[str] = []
    for words, field in _alternatives(node, False):
        if _contains(tokens, words):
            # a title-only alternative is excluded from the title only
            clause = "-" + (f"{field}:" if field else "") + '"' + " ".join(words) + '"'
            if clause not in out:
                out.append(clause)
    return out


def _alternatives(node: Any, under_or: bool) -> Iterator[tuple[tuple[str, ...], str | None]]:
    match node:
        case Or(items):
            for item in items:
                yield from _alternatives(item, True)
        case And(items):
            for item in items:
                yield from _alternatives(item, under_or)
        case Term(word, field) if under_or and field in (None, "title"):
            yield (word,), field
        case Phrase(words, field) if under_or and field in (None, "title"):
            yield words, field
        case Not():
            return


def _contains(tokens: list[str], words: tuple[str, ...]) -> bool:
    n = len(words)
    return any(tuple(tokens[i : i + n]) == words for i in range(len(tokens) - n + 1))


def _exclude_for_search(
    search: SavedSearch, posting: Posting, now: datetime
) -> tuple[str, list[int]]:
    """Add the exclusion to the search; (what was added, [search id])."""
    assert search.id is not None
    clauses = matched_alternatives(search.query, posting.title)
    if clauses:
        top = parse_query(search.query)
        # AND binds tighter than OR: `a OR b -"b"` would keep every `a`… and mean `b AND NOT b`.
        base = f"({search.query.strip()})" if isinstance(top, Or) else search.query.strip()
        new = f"{base} {' '.join(clauses)}"
        try:
            parse_query(new)
        except QueryError:
            clauses = []  # the query would grow past its limits: exclude the company instead
        else:
            search.query, search.updated_at = new, now
            return " ".join(clauses), [search.id]
    if _add_company(search, posting.company, now):
        return f"company:{posting.company}", [search.id]
    return f"company:{posting.company}", []


def _add_company(search: SavedSearch, company: str, now: datetime) -> bool:
    if company.casefold() in {c.casefold() for c in search.exclude_companies}:
        return False
    search.exclude_companies = sorted([*search.exclude_companies, company])
    search.updated_at = now
    return True


def _exclude_company(session: Session, sub: Subscriber, company: str, now: datetime) -> list[int]:
    searches = session.execute(
        select(SavedSearch).where(col(SavedSearch.subscriber_id) == sub.id)
    ).scalars()
    return [s.id for s in searches if _add_company(s, company, now) and s.id is not None]


# --- undo, the manage page, the digest filter ----------------------------------------------------


def undo_feedback(
    session: Session, subscriber_id: int, feedback_id: int, *, now: datetime | None = None
) -> Feedback:
    """Revert what one feedback row changed; `LookupError` if it is not this subscriber's."""
    row = session.get(Feedback, feedback_id)
    if row is None or row.subscriber_id != subscriber_id:
        raise LookupError("no such feedback")
    if row.undone_at is not None:
        return row
    now = now or utcnow()
    for search_id in row.changed_search_ids:
        search = session.get(SavedSearch, search_id)
        if search is not None and row.exclusion:
            _revert(search, row, now)
    row.undone_at = now
    session.add(row)
    session.flush()
    return row


def _revert(search: SavedSearch, row: Feedback, now: datetime) -> None:
    assert row.exclusion is not None
    if row.action == "not_relevant" and not row.exclusion.startswith("company:"):
        clause = " " + row.exclusion
        if clause in search.query:
            # the parentheses added around an OR query stay: they change nothing
            search.query = search.query.replace(clause, "", 1)
    else:
        company = row.exclusion.removeprefix("company:").casefold()
        search.exclude_companies = [c for c in search.exclude_companies if c.casefold() != company]
    search.updated_at = now


def feedback_of(session: Session, subscriber_id: int) -> list[Feedback]:
    """The subscriber's feedback still in force, newest first (listed on the manage page)."""
    return list(
        session.execute(
            select(Feedback)
            .where(col(Feedback.subscriber_id) == subscriber_id, col(Feedback.undone_at).is_(None))
            .order_by(col(Feedback.created_at).desc(), col(Feedback.id).desc())
        ).scalars()
    )


def not_applied(subscriber_id: Any) -> Any:
    """SQL: the posting is not one this subscriber applied to, nor a re-post or copy of one."""
    return ~exists().where(
        col(Feedback.subscriber_id) == subscriber_id,
        col(Feedback.action) == "applied",
        col(Feedback.undone_at).is_(None),
        (col(Feedback.posting_id) == col(Posting.id))
        | and_(
            col(Feedback.company_key) != "",
            col(Feedback.company_key) == col(Posting.company_key),
            col(Feedback.title_key) == col(Posting.title_key),
        ),
    )


@dataclass
class FeedbackCounts:
    """Not relevant clicks in force, per relevance rule and per source, most first."""

    total: int
    by_rule: list[tuple[str, int]]
    by_source: list[tuple[str, int]]


def not_relevant_counts(session: Session, limit: int = 10) -> FeedbackCounts:
    rows = session.execute(
        select(col(Feedback.relevance_rule), col(Feedback.sources)).where(
            col(Feedback.action) == "not_relevant", col(Feedback.undone_at).is_(None)
        )
    ).all()
    rules: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    for rule, names in rows:
        rules[rule or "(not recorded)"] += 1
        sources.update(set(names or ()))
    return FeedbackCounts(len(rows), rules.most_common(limit), sources.most_common(limit))


def counts_lines(counts: FeedbackCounts) -> list[str]:
    """`andon status`'s lines: which rules and sources draw the most Not relevant."""
    if not counts.total:
        return ["not relevant (digest feedback): none yet"]
    rules = ", ".join(f"{rule!r} {n}" for rule, n in counts.by_rule)
    sources = ", ".join(f"{source} {n}" for source, n in counts.by_source)
    return [
        f"not relevant (digest feedback): {counts.total}",
        f"  by relevance rule: {rules}",
        f"  by source: {sources or 'none'}",
    ]

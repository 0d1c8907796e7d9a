"""Pay stated only in the description is read from a sentence that says it is pay."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.normalize import normalize_item
from spiders.items import JobItem

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def item(description: str) -> JobItem:
    return JobItem(
        source="acme", kind="greenhouse", external_id="greenhouse:acme:1", title="Production Manager",
        company="Acme Foods", url="https://example.com/jobs/1", description_html=f"<p>{description}</p>",
        locations=["Dearborn, MI"], crawled_at=NOW,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "annual"),
    [
        (
            "Lead two shifts. The salary range for this role is $95,000 - $115,000 per year.",
            (95000, 115000),
        ),
        ("Pay rate: $28/hr to $34/hr depending on experience.", (58240, 70720)),
        ("Compensation: 90k-110k USD annually plus bonus.", (90000, 110000)),
        ("You will own a $5M capital budget and a 401k plan.", None),
        ("Lead 40 people across 3 lines.", None),
        # Workday puts pay in the description with no pay word at all.
        ("Second shift. $30.50 - $34.00 per hour. Full benefits from day one.", (63440, 70720)),
        ("The hiring range for this position is $88,000 to $104,000.", (88000, 104000)),
        ("Spend $2 - $3 per hour of downtime less: that is the job.", None),
        ("Budget of $1M - $2M a year for capital projects.", None),
    ],
)
def test_salary_from_description_only_from_pay_sentences(text, annual):
    clean = normalize_item(item(text), now=NOW)
    got = (
        None
        if clean.annual_min_usd is None
        else (round(clean.annual_min_usd), round(clean.annual_max_usd))  # type: ignore[arg-type]  # the case above checks it is set
    )
    assert got == annual


def test_a_salary_field_wins_over_the_description():
    it = item("The salary range is $50,000 - $60,000 per year.")
    it.salary_text = "$100,000 - $120,000 per year"
    assert normalize_item(it, now=NOW).annual_min_usd == 100000

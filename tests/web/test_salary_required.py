"""The web faces of "Only jobs that state a salary": the subscribe form and /jobs."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import col

import db
from alerts.models import SavedSearch
from pipeline.store import store_batch
from tests.factories import posting
from tests.web.conftest import subscribe
from web.forms import form_of

NO_PAY = {
    "salary_min": None, "salary_max": None, "salary_currency": None, "salary_period": None,
    "annual_min_usd": None, "annual_max_usd": None,
}  # fmt: skip


def test_subscribe_form_saves_the_switch(client: TestClient, engine) -> None:
    assert subscribe(client, min_salary="100000", salary_required="1").status_code == 303
    assert subscribe(client, email="sam@example.com", min_salary="100000").status_code == 303
    with db.session_scope(engine) as s:
        saved = {
            row.salary_required: row
            for row in s.execute(select(SavedSearch).order_by(col(SavedSearch.id))).scalars()
        }
    assert set(saved) == {True, False}
    assert form_of(saved[True])["salary_required"] is True
    assert form_of(saved[False])["salary_required"] is False
    page = client.get("/")
    assert "Only jobs that state a salary" in page.text
    assert 'name="salary_required" value="1" checked' not in page.text


def test_jobs_page_leaves_out_jobs_without_a_salary_when_asked(client: TestClient, engine) -> None:
    with db.session_scope(engine) as s:
        store_batch(
            s,
            [
                posting(external_id="paid", title="Paid Plant Manager", company="Paid Foods",
                        url="https://jobs.example/paid", apply_url=None),
                posting(external_id="unpaid", title="Quiet Plant Manager", company="Quiet Foods",
                        url="https://jobs.example/quiet", apply_url=None,
                        description_text="Run the quiet plant.", **NO_PAY),
            ],
        )  # fmt: skip
    both = client.get("/jobs", params={"min_salary": "100000"})
    assert "Paid Plant Manager" in both.text and "Quiet Plant Manager" in both.text
    paid = client.get("/jobs", params={"min_salary": "100000", "salary_required": "1"})
    assert "Paid Plant Manager" in paid.text and "Quiet Plant Manager" not in paid.text
    assert 'name="salary_required" value="1" checked' in paid.text

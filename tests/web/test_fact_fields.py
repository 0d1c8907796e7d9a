"""The plant-facts fields (shift, team size, standards) of the subscribe, add and edit forms, over
HTTP: checked through the filter definitions, shown on the manage page, kept on edit."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

import db
from alerts.models import SavedSearch
from alerts.subscriptions import SearchInput
from alerts.subscriptions import subscribe as service_subscribe
from alerts.tokens import make_token
from tests.web.conftest import SECRET, csrf_of, subscribe, subscribe_form
from tests.web.test_subscribe import searches, subscriber


def test_the_subscribe_form_offers_shift_team_and_standards(client: TestClient) -> None:
    page = client.get("/").text
    assert '<select id="shift" name="shift">' in page
    assert '<option value="3rd">3rd shift</option>' in page
    assert 'id="min_team" name="min_team"' in page
    assert 'name="standard" value="iso_13485"> ISO 13485' in page


def test_subscribing_with_facts_stores_them_as_the_definitions_read_them(
    client: TestClient, engine
) -> None:
    response = subscribe(client, shift="2nd", min_team="25", standard=["haccp", "sqf"])
    assert response.status_code == 303, response.text
    (saved,) = searches(engine)
    assert (saved.shifts, saved.min_team, saved.standards) == (["2nd"], 25, ["haccp", "sqf"])


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"shift": "fourth"}, "shift", "unknown shift 'fourth'"),
        ({"standard": ["haccp", "iso9999"]}, "standard", "unknown standard 'iso9999'"),
        ({"min_team": "2.5"}, "min_team", "the team size must be a whole number of people"),
        ({"min_team": "0"}, "min_team", "from 1 to 100000"),
        ({"min_team": "many"}, "min_team", "the team size must be a number"),
    ],
)
def test_a_bad_fact_value_gets_one_message_and_nothing_is_saved(
    client: TestClient, engine, changes, field, message
) -> None:
    response = subscribe(client, **changes)
    assert response.status_code == 400
    errors = response.text.split('class="error" id="')[1:]
    assert [e.split('"', 1)[0] for e in errors] == [f"{field}-error"]
    assert message in errors[0].split("</div>", 1)[0].replace("&#39;", "'")
    assert subscriber(engine) is None
    # the refused value stays in the form, so the person sees what the message is about
    if field == "min_team":
        assert f'value="{changes["min_team"]}"' in response.text


def test_the_manage_page_shows_the_facts_and_the_edit_form_round_trips_them(
    client: TestClient, engine
) -> None:
    with db.session_scope(engine) as s:
        sub, saved, _ = service_subscribe(
            s, "pat@example.com",
            SearchInput(query="plant manager", shifts=["night", "rotating"], min_team=40,
                        standards=["ISO 9001"], timezone="America/Detroit"),
            confirmed=True,
        )  # fmt: skip
        manage = f"/manage/{make_token(SECRET, 'manage', sub.id or 0)}"
        search_id = saved.id
    page = client.get(manage)
    assert "3rd shift or rotating shifts" in page.text and "leads 40+ people" in page.text
    assert "standards: ISO 9001" in page.text
    edit = client.get(f"{manage}/searches/{search_id}").text
    # two shifts from the CLI: a multiple select, so saving the form unchanged keeps both
    assert '<select id="shift" name="shift" multiple>' in edit
    assert '<option value="3rd" selected>' in edit and '<option value="rotating" selected>' in edit
    assert 'id="min_team" name="min_team"' in edit and 'value="40"' in edit
    assert 'name="standard" value="iso_9001" checked>' in edit

    form = subscribe_form(query="plant manager", shift=["3rd", "rotating"], min_team="40",
                          standard=["iso_9001"])  # fmt: skip
    kept = client.post(
        f"{manage}/searches/{search_id}", data={"csrf_token": csrf_of(page.text), **form},
        follow_redirects=False,
    )  # fmt: skip
    assert kept.status_code == 303
    (saved,) = searches(engine)
    assert (saved.shifts, saved.min_team, saved.standards) == (
        ["3rd", "rotating"],
        40,
        ["iso_9001"],
    )

    form.update(shift="1st", min_team="", standard=["gmp", "fda"])
    changed = client.post(
        f"{manage}/searches/{search_id}", data={"csrf_token": csrf_of(page.text), **form},
        follow_redirects=False,
    )  # fmt: skip
    assert changed.status_code == 303
    (saved,) = searches(engine)
    assert (saved.shifts, saved.min_team, saved.standards) == (["1st"], None, ["fda", "gmp"])

    bad = client.post(
        f"{manage}/searches/{search_id}",
        data={"csrf_token": csrf_of(page.text), **form, "standard": ["gmp", "bogus"]},
    )
    assert bad.status_code == 400 and "unknown standard &#39;bogus&#39;" in bad.text
    assert searches(engine)[0].standards == ["fda", "gmp"]  # nothing saved


def test_get_alerts_from_jobs_carries_the_facts_into_the_form(client: TestClient) -> None:
    jobs = client.get("/jobs?shift=3rd&min_team=20&standard=gmp").text
    link = jobs.split('href="/?', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert "shift=3rd" in link and "min_team=20" in link and "standard=gmp" in link
    form = client.get(f"/?{link}").text
    assert '<option value="3rd" selected>' in form
    assert 'name="min_team"' in form and 'value="20"' in form
    assert 'name="standard" value="gmp" checked>' in form


def test_a_saved_search_without_facts_edits_as_before(client: TestClient, engine) -> None:
    with db.session_scope(engine) as s:
        sub, saved, _ = service_subscribe(
            s, "pat@example.com", SearchInput(query="plant manager"), confirmed=True
        )
        manage = f"/manage/{make_token(SECRET, 'manage', sub.id or 0)}"
        search_id = saved.id
    edit = client.get(f"{manage}/searches/{search_id}").text
    assert '<option value="" selected>Any shift</option>' in edit
    with db.session_scope(engine) as s:
        assert s.get(SavedSearch, search_id).shifts == []

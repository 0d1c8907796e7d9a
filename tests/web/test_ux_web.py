"""What a new user trips over on the pages (issue 13, items 2, 7 and 8): places, forms, /jobs."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import col

import db
from alerts.models import SavedSearch, Subscriber
from alerts.subscriptions import SearchInput
from alerts.subscriptions import subscribe as service_subscribe
from alerts.tokens import make_token
from pipeline.models import Posting, PostingSource
from pipeline.store import store_batch
from tests.factories import posting
from tests.web.conftest import SECRET, csrf_of, form_token, messages, subscribe
from web.listing_view import apply_link


def stored_count(engine) -> int:
    with db.session_scope(engine) as s:
        return len(list(s.execute(select(SavedSearch)).scalars()))


def manage_path(engine) -> str:
    with db.session_scope(engine) as s:
        sub, _, _ = service_subscribe(
            s, "pat@example.com", SearchInput(query="manager", name="first"), confirmed=True
        )
        return f"/manage/{make_token(SECRET, 'manage', sub.id)}"  # type: ignore[arg-type]


# --- item 2: a place the gazetteer does not know ---------------------------------------------


def test_subscribe_form_refuses_a_mistyped_place_with_a_suggestion(
    client: TestClient, engine, outbox
) -> None:
    response = subscribe(client, location="Detriot, MI", within="50")
    assert response.status_code == 400
    page = html.unescape(response.text)
    assert "Did you mean 'Detroit, MI'?" in page
    # The summary at the top links to the field; the field shows the message too.
    summary = page.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    assert 'href="#location"' in summary
    assert 'id="location-error"' in page
    assert stored_count(engine) == 0
    assert messages(outbox) == []


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("<b>Toledo</b>", "without '<' or '>'"),
        ("48124", "ZIP and postal codes aren't supported yet"),
        ("qzxqzx", "doesn't know the place 'qzxqzx'"),
    ],
)
def test_subscribe_form_refuses_markup_zip_and_nonsense(
    client: TestClient, engine, location: str, message: str
) -> None:
    response = subscribe(client, location=location)
    assert response.status_code == 400
    assert message in html.unescape(response.text)
    assert "<b>Toledo</b>" not in response.text  # echoed escaped, never as markup
    assert stored_count(engine) == 0


def test_manage_add_form_refuses_a_mistyped_place(client: TestClient, engine) -> None:
    manage = manage_path(engine)
    token = form_token(client, manage)
    response = client.post(
        f"{manage}/searches",
        data={"csrf_token": token, "query": "", "location": "Sna Francisco", "cadence": "daily",
              "hour": "8", "weekday": "mon", "timezone": "UTC"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "Did you mean 'San Francisco, CA'" in html.unescape(response.text)
    assert stored_count(engine) == 1


def test_jobs_page_and_api_refuse_a_mistyped_place(client: TestClient) -> None:
    page = client.get("/jobs", params={"location": "Detriot, MI", "within": "50", "q": "plant"})
    assert page.status_code == 400
    text = html.unescape(page.text)
    assert "Did you mean 'Detroit, MI'?" in text
    # A link runs the same search at the suggested place.
    link = re.search(r'<a href="(/jobs\?[^"]+)">Detroit, MI</a>', text)
    assert link is not None
    query = parse_qs(urlsplit(link.group(1)).query)
    assert query == {"q": ["plant"], "within": ["50"], "location": ["Detroit, MI"]}
    api = client.get("/api/jobs", params={"location": "Detriot, MI"})
    assert api.status_code == 422
    assert "Did you mean 'Detroit, MI'?" in api.json()["detail"]
    assert client.get("/api/jobs", params={"location": "Detroit, MI"}).status_code == 200


# --- item 7: forms ---------------------------------------------------------------------------


def test_a_refused_timezone_keeps_what_was_typed(client: TestClient) -> None:
    response = subscribe(client, timezone="Mars/Olympus")
    assert response.status_code == 400
    field = re.search(r'<input[^>]*id="timezone"[^>]*>', response.text)
    assert field is not None
    assert 'value="Mars/Olympus"' in field.group(0)
    # Without the marker tz.js leaves the field alone: it shows the zone the error names.
    assert "data-browser-tz" not in field.group(0)
    assert "data-browser-tz" in client.get("/").text


def test_over_long_query_and_name_are_refused_with_the_limit_named(
    client: TestClient, engine
) -> None:
    response = subscribe(client, query="a" * 600, name="n" * 200)
    assert response.status_code == 400
    text = html.unescape(response.text)
    assert "keywords can be at most 500 characters; this has 600" in text
    assert "the name can be at most 120 characters; this has 200" in text
    assert stored_count(engine) == 0
    home = client.get("/").text
    assert re.search(r'id="query"[^>]*maxlength="500"', home)
    assert re.search(r'id="name"[^>]*maxlength="120"', home)
    jobs = client.get("/jobs", params={"q": "b" * 501})
    assert jobs.status_code == 400
    assert "at most 500 characters; this has 501" in jobs.text


def test_a_refused_schedule_is_summarised_at_the_top_of_the_manage_page(
    client: TestClient, engine
) -> None:
    manage = manage_path(engine)
    with db.session_scope(engine) as s:
        search_id = s.execute(select(col(SavedSearch.id))).scalar_one()
    token = form_token(client, manage)
    response = client.post(
        f"{manage}/searches/{search_id}/schedule",
        data={"csrf_token": token, "cadence": "daily", "hour": "8", "weekday": "mon",
              "timezone": "Mars/Olympus"},
    )  # fmt: skip
    assert response.status_code == 400
    top = response.text.split('id="search-', 1)[0]  # before the first search card
    assert f'id="s{search_id}-error-summary"' in top
    assert f'href="#s{search_id}-timezone"' in top
    assert f'id="s{search_id}-timezone" name="timezone" value="Mars/Olympus"' in response.text


def test_delete_asks_before_deleting(client: TestClient, engine) -> None:
    manage = manage_path(engine)
    with db.session_scope(engine) as s:
        search_id = s.execute(select(col(SavedSearch.id))).scalar_one()
    token = form_token(client, manage)
    asked = client.post(f"{manage}/searches/{search_id}/delete", data={"csrf_token": token})
    assert asked.status_code == 200
    assert "Delete “first”?" in asked.text
    assert f'href="{manage}#search-{search_id}"' in asked.text  # "No, keep it"
    assert stored_count(engine) == 1
    client.post(
        f"{manage}/searches/{search_id}/delete",
        data={"csrf_token": csrf_of(asked.text), "confirm": "yes"},
    )
    assert stored_count(engine) == 0


# --- item 8: /jobs ---------------------------------------------------------------------------


@pytest.fixture
def jobs(engine) -> None:
    now = db.utcnow()
    rows = [
        posting(external_id="greenhouse:acme:1", posted_at=now - timedelta(days=1)),
        posting(
            external_id="greenhouse:acme:2", title="Plant Manager", company="Bosch",
            city="Detroit", location_text="Detroit, MI", latitude=42.3314, longitude=-83.0458,
            url="https://boards.greenhouse.io/bosch/jobs/2", apply_url=None,
            posted_at=now - timedelta(days=2),
        ),
        posting(
            source="himalayas", external_id="himalayas:3", title="Remote Production Director",
            company="Acme Remote", workplace="remote", city=None, region=None, country="US",
            location_text="Remote - US", latitude=None, longitude=None, attribution="Himalayas",
            url="https://himalayas.app/jobs/3", apply_url=None, posted_at=now - timedelta(days=3),
        ),
    ]  # fmt: skip
    with db.session_scope(engine) as s:
        store_batch(s, rows, now=now)


@pytest.mark.usefixtures("jobs")
def test_get_alerts_carries_the_filters_into_the_subscribe_form(client: TestClient) -> None:
    params = {
        "q": "plant manager", "location": "Dearborn, MI", "within": "100", "min_salary": "90000",
        "workplace": ["onsite"], "seniority": ["manager"], "skill": ["lean"],
        "salary_required": "1",
    }  # fmt: skip
    page = client.get("/jobs", params=params)
    assert page.status_code == 200
    assert 'id="within" name="within" min="1" step="any" value="100"' in page.text  # not 100.0
    link = re.search(r'<a href="(/\?[^"]+)">Get alerts for this search</a>', page.text)
    assert link is not None
    url = html.unescape(link.group(1))
    assert url.endswith("#subscribe")
    assert f'<a href="{link.group(1)}">Get alerts</a>' in page.text  # the header's link too
    carried = parse_qs(urlsplit(url).query)
    assert carried == {
        "query": ["plant manager"], "location": ["Dearborn, MI"], "within": ["100"],
        "min_salary": ["90000"], "workplace": ["onsite"], "seniority": ["manager"],
        "skill": ["lean"], "salary_required": ["1"],
    }  # fmt: skip
    home = client.get(url).text
    assert 'id="query" name="query" value="plant manager"' in home
    assert 'id="location" name="location" value="Dearborn, MI"' in home
    assert 'value="100"' in home and 'value="90000"' in home
    assert 'name="workplace" value="onsite" checked' in home
    assert 'name="skill" value="lean" checked' in home
    assert 'name="salary_required" value="1" checked' in home


@pytest.mark.usefixtures("jobs")
def test_alerts_subscribed_from_jobs_keep_the_skills(client: TestClient, engine) -> None:
    assert subscribe(client, location="Dearborn, MI", skill="lean").status_code == 303
    with db.session_scope(engine) as s:
        saved = s.execute(select(SavedSearch)).scalar_one()
        assert saved.skills == ["lean"]
        assert s.execute(select(col(Subscriber.email))).scalar_one() == "pat@example.com"


@pytest.mark.usefixtures("jobs")
def test_an_offset_past_the_end_says_so_and_links_to_the_first_page(client: TestClient) -> None:
    page = client.get("/jobs", params={"workplace": "onsite", "offset": "500"})
    assert page.status_code == 200
    assert "No more results: all 2 jobs that match come before this page" in page.text
    assert '<a href="/jobs?workplace=onsite">Back to the first page</a>' in page.text
    assert "newest first" not in page.text


@pytest.mark.usefixtures("jobs")
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "0"}, "limit must be from 1 to 100"),
        ({"limit": "-3"}, "limit must be from 1 to 100"),
        ({"limit": "5000"}, "limit must be from 1 to 100"),
        ({"offset": "-1"}, "offset must be from 0 to 1,000,000"),
    ],
)
def test_out_of_range_limit_or_offset_is_a_clear_400(
    client: TestClient, params: dict[str, str], message: str
) -> None:
    page = client.get("/jobs", params=params)
    assert page.status_code == 400
    assert message in page.text
    assert 'class="jobs"' not in page.text


@pytest.mark.usefixtures("jobs")
def test_a_radius_search_shows_the_distance_to_each_job(client: TestClient) -> None:
    page = client.get("/jobs", params={"location": "Dearborn, MI", "within": "50"})
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "under 1 mi from Dearborn, MI" in text  # the Dearborn job
    assert "7 mi from Dearborn, MI" in text  # Detroit's centre is 6.7 miles from Dearborn's
    assert "mi from" not in client.get("/jobs", params={"location": "Dearborn, MI"}).text


def test_apply_prefers_the_employers_own_posting(client: TestClient, engine) -> None:
    now = db.utcnow()
    board = posting(
        source="himalayas", external_id="himalayas:9", url="https://himalayas.app/jobs/9",
        apply_url="https://himalayas.app/jobs/9/apply", attribution="Himalayas",
    )  # fmt: skip
    with db.session_scope(engine) as s:
        store_batch(s, [board], now=now)
        posting_id = s.execute(select(col(Posting.id))).scalar_one()
    page = client.get(f"/jobs/{posting_id}").text
    assert 'href="https://himalayas.app/jobs/9/apply"' in page
    assert "See the job on himalayas.app" in page
    assert "employer&#39;s site" not in page
    # The employer's ATS lists the same job: the button goes there.
    with db.session_scope(engine) as s:
        s.add(
            PostingSource(
                posting_id=posting_id, source="acme-greenhouse",
                external_id="greenhouse:acme:9", url="https://boards.greenhouse.io/acme/jobs/9",
            )
        )  # fmt: skip
    page = client.get(f"/jobs/{posting_id}").text
    assert (
        '<a class="button" href="https://boards.greenhouse.io/acme/jobs/9" rel="nofollow noopener">'
        "Apply on the employer&#39;s site</a>"
    ) in page


def test_apply_link_rules() -> None:
    ats = {"source": "acme", "external_id": "greenhouse:acme:1",
           "url": "https://boards.greenhouse.io/acme/jobs/1"}  # fmt: skip
    board = {"source": "himalayas", "external_id": "himalayas:1",
             "url": "https://himalayas.app/jobs/1"}  # fmt: skip
    # The ATS's own application form (same host) is kept.
    item = {"url": board["url"], "apply_url": ats["url"] + "#app", "sources": [board, ats]}
    assert apply_link(item) == {
        "href": ats["url"] + "#app",
        "label": "Apply on the employer's site",
    }
    # A board's apply URL that leaves the board is the employer's.
    item = {"url": board["url"], "apply_url": "https://careers.acme.example/9", "sources": [board]}
    assert apply_link(item)["href"] == "https://careers.acme.example/9"  # type: ignore[index]
    assert apply_link({"url": "javascript:alert(1)", "apply_url": None, "sources": []}) is None

"""/jobs pages, the JSON API against `andon listings`' search, and Atom feeds of saved searches."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import col

import db
from alerts.subscriptions import SearchInput
from alerts.subscriptions import subscribe as service_subscribe
from alerts.tokens import make_token
from pipeline.models import Posting
from pipeline.store import store_batch
from search import sql as search
from tests.factories import posting
from tests.web.conftest import SECRET

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def stored(engine) -> None:
    now = db.utcnow()
    rows = [
        posting(external_id="1", posted_at=now - timedelta(days=1)),
        posting(
            external_id="2", title="Plant Manager", company="Bosch", city="Detroit",
            location_text="Detroit, MI", latitude=42.3314, longitude=-83.0458,
            industries=["automotive"], skills=["iatf_16949", "lean"], salary_min=130000,
            salary_max=150000, annual_min_usd=130000, annual_max_usd=150000,
            posted_at=now - timedelta(days=10), url="https://jobs.bosch.example/2", apply_url=None,
        ),
        posting(
            external_id="3", source="himalayas", title="Remote Production Director",
            company="Acme Remote", workplace="remote", city=None, region=None, country="US",
            location_text="Remote - US", latitude=None, longitude=None, seniority="director",
            industries=["aerospace"], skills=["as9100"], employment_type="contract",
            salary_min=None, salary_max=None, salary_currency=None, salary_period=None,
            annual_min_usd=None, annual_max_usd=None, attribution="Himalayas",
            posted_at=now - timedelta(days=2), url="https://himalayas.app/jobs/3", apply_url=None,
        ),
        posting(
            external_id="4", title="Production Supervisor - 2nd Shift", company="Tyson Foods",
            city="Springdale", region="US-AR", location_text="Springdale, AR", latitude=36.19,
            longitude=-94.13, seniority="supervisor", salary_min=28, salary_max=34,
            salary_period="hour", annual_min_usd=58240, annual_max_usd=70720,
            skills=["haccp", "osha"], industries=["food_beverage"], posted_at=now - timedelta(days=3),
            url="https://jobs.tyson.example/4", apply_url=None,
        ),
    ] + [
        posting(external_id=f"x{n}", title=f"Production Manager {n}", company=f"Maker {n}",
                url=f"https://jobs.maker.example/{n}", apply_url=None,
                posted_at=now - timedelta(days=20, hours=n))
        for n in range(30)
    ]  # fmt: skip
    with db.session_scope(engine) as s:
        store_batch(s, rows, now=now)


CASES = [
    {},
    {"q": "production"},
    {"q": '"plant manager" OR director'},
    {"q": "manager -plant"},
    {"location": "Dearborn, MI", "within": "50"},
    {"location": "Springdale, AR"},
    {"workplace": ["remote", "hybrid"]},
    {"min_salary": "100000"},
    {"seniority": ["director", "supervisor"], "industry": ["aerospace", "food_beverage"]},
    {"skill": ["lean"], "q": "title:plant"},
    {"employment_type": ["contract"]},
    {"since": "7d"},
    {"since": "7d", "min_salary": "60000", "workplace": ["onsite"]},
    {"limit": "5", "offset": "5"},
]


def expected(engine, params: dict) -> list[dict]:
    """What `andon listings` prints for the same options (the CLI's own calls)."""
    filters = search.build_filters(
        location=params.get("location"),
        within=float(params["within"]) if "within" in params else None,
        workplaces=params.get("workplace", ()),
        min_salary=float(params["min_salary"]) if "min_salary" in params else None,
        seniorities=params.get("seniority", ()),
        industries=params.get("industry", ()),
        skills=params.get("skill", ()),
        employment_types=params.get("employment_type", ()),
        since=params.get("since"),
        include_closed=False,
    )
    with db.session_scope(engine) as s:
        found = search.search_postings(
            s, params.get("q"), filters, limit=int(params.get("limit", 50)),
            offset=int(params.get("offset", 0)),
        )  # fmt: skip
        return search.listings(s, found)


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize("params", CASES, ids=[str(c) for c in CASES])
def test_api_jobs_answers_like_andon_listings(client: TestClient, engine, params) -> None:
    response = client.get("/api/jobs", params=params)
    assert response.status_code == 200, response.text
    assert response.json() == expected(engine, params)


@pytest.mark.usefixtures("stored")
def test_api_job_by_id_and_errors(client: TestClient, engine) -> None:
    first = client.get("/api/jobs", params={"limit": 1}).json()[0]
    assert client.get(f"/api/jobs/{first['id']}").json() == first
    assert set(first) == {
        "id", "title", "company", "url", "apply_url", "sources", "location", "workplace",
        "employment_type", "salary", "seniority", "industries", "skills", "facts", "description",
        "posted_at", "posted_or_earlier", "valid_through", "first_seen_at", "last_seen_at",
        "status",
    }  # fmt: skip
    missing = client.get("/api/jobs/999999")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no posting 999999"}
    for params, status, message in [
        ({"workplace": "moon"}, 400, "unknown workplace 'moon'"),
        ({"within": "10"}, 400, "within needs location"),
        ({"q": "(plant"}, 400, "bad query at column 1"),
        ({"since": "yesterday"}, 400, "since 'yesterday' is neither"),
        ({"limit": "0"}, 400, "limit must be between 1 and 1000"),
        ({"within": "ten", "location": "Detroit"}, 422, "within: Input should be a valid number"),
    ]:
        response = client.get("/api/jobs", params=params)
        assert response.status_code == status, params
        detail = response.json()["detail"]
        assert isinstance(detail, str)
        assert message in detail


def test_openapi_documents_the_listing_contract(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert set(spec["paths"]) == {"/api/jobs", "/api/jobs/{posting_id}", "/healthz"}
    ok = spec["paths"]["/api/jobs"]["get"]["responses"]["200"]["content"]["application/json"]
    assert ok["schema"]["items"]["$ref"].endswith("/Listing")
    assert "salary" in spec["components"]["schemas"]["Listing"]["properties"]
    names = {p["name"] for p in spec["paths"]["/api/jobs"]["get"]["parameters"]}
    assert names == {
        "q", "location", "within", "workplace", "min_salary", "seniority", "industry", "skill",
        "employment_type", "shift", "min_team", "standard", "since", "include_closed", "limit",
        "offset",
    }  # fmt: skip


@pytest.mark.usefixtures("stored")
def test_jobs_page_pages_newest_first_with_attribution(client: TestClient, engine) -> None:
    page = client.get("/jobs")
    assert page.status_code == 200
    assert "34 jobs, newest first" in page.text
    assert 'via <a href="https://himalayas.app/jobs/3"' in page.text
    # Newest first: yesterday's job comes before the one from two days ago.
    assert page.text.index("Production Manager</a>") < page.text.index("Remote Production Director")
    assert 'rel="next"' in page.text
    assert 'rel="prev"' not in page.text
    nxt = page.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"', 1)[0]
    assert nxt == "/jobs?offset=25"
    second = client.get(nxt.replace("&amp;", "&"))
    assert 'rel="prev"' in second.text
    assert 'rel="next"' not in second.text
    assert "showing 26–34" in second.text
    filtered = client.get("/jobs", params={"workplace": "remote", "q": "director"})
    assert "1 job, newest first" in filtered.text
    bad = client.get("/jobs", params={"within": "ten", "q": "(x"})
    assert bad.status_code == 400
    assert "must be a number" in bad.text
    assert "bad query at column 1" in bad.text


@pytest.mark.usefixtures("stored")
def test_jobs_page_filters_match_the_api(client: TestClient) -> None:
    params = {"seniority": ["director", "supervisor"], "since": "7d"}
    ids = [j["id"] for j in client.get("/api/jobs", params=params).json()]
    html = client.get("/jobs", params=params).text
    assert ids
    for posting_id in ids:
        assert f'href="/jobs/{posting_id}"' in html


def test_job_page_escapes_scraped_text_and_shows_no_script(client: TestClient, engine) -> None:
    evil = posting(
        external_id="evil",
        title='<script>alert("t")</script>Manager',
        company="Acme <img src=x onerror=alert(1)>",
        url="javascript:alert(1)",
        apply_url="javascript:alert(2)",
        description_html=(
            '<p>Lead <b>shifts</b></p><script>alert("d")</script>'
            '<a href="javascript:alert(3)">x</a><img src=x onerror="alert(4)">'
            '<a href="https://ok.example/apply">apply</a>'
        ),
    )
    with db.session_scope(engine) as s:
        store_batch(s, [evil])  # straight into the table, past the normalize stage
        posting_id = s.execute(select(col(Posting.id))).scalar_one()
    page = client.get(f"/jobs/{posting_id}")
    assert page.status_code == 200
    body = page.text
    assert "<script>alert" not in body
    assert "<script" not in body.split("<main>", 1)[1]
    assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;Manager" in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    assert "javascript:" not in body
    assert "onerror=" not in body.replace("onerror=alert(1)&gt;", "")
    assert "<b>shifts</b>" in body  # sanitized formatting survives
    assert 'href="https://ok.example/apply"' in body
    listing_page = client.get("/jobs")
    assert "<script>alert" not in listing_page.text
    assert client.get("/jobs/424242").status_code == 404
    assert client.get("/jobs/not-a-number").status_code == 404


def test_feed_is_atom_with_the_search_matches(client: TestClient, engine) -> None:
    now = db.utcnow()
    rows = [
        posting(external_id="a", title="Plant Manager \x0b<&> “Süd”", posted_at=now - timedelta(days=1)),
        posting(external_id="b", title="Production Supervisor", seniority="supervisor",
                posted_at=now - timedelta(days=2)),
        posting(external_id="c", title="Plant Manager old", posted_at=now - timedelta(days=90)),
    ]  # fmt: skip
    with db.session_scope(engine) as s:
        store_batch(s, rows, now=now)
        _, saved, _ = service_subscribe(
            s,
            "pat@example.com",
            SearchInput(query="plant", name="Plants & <mills>"),
            confirmed=True,
        )
        search_id = saved.id
    token = make_token(SECRET, "feed", search_id)  # type: ignore[arg-type]  # a stored row: its id is set
    response = client.get(f"/feeds/{token}.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}title") == "andon: Plants & <mills>"
    entries = root.findall(f"{ATOM}entry")
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    assert titles == ["Plant Manager <&> “Süd” — Acme Foods"]  # the control char is dropped
    assert entries[0].find(f"{ATOM}link").get("href") == "https://boards.greenhouse.io/acme/jobs/1"
    assert client.get(f"/feeds/{token[:-2]}zz.xml").status_code == 400
    assert client.get(f"/feeds/{make_token(SECRET, 'feed', 999999)}.xml").status_code == 404
    # A manage token is not a feed token.
    assert client.get(f"/feeds/{make_token(SECRET, 'manage', search_id)}.xml").status_code == 400  # type: ignore[arg-type]  # a stored row: its id is set

"""Bad API and page input gets a clear 400/422, never a 500; schemathesis fuzzes the OpenAPI schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

import db
from pipeline.store import store_batch
from tests.factories import posting

NESTED = "(" * 5000 + "manager" + ")" * 5000
MANY_ORS = " OR ".join(f"w{i}" for i in range(2000))


@pytest.fixture
def stored(engine) -> None:
    with db.session_scope(engine) as s:
        store_batch(
            s,
            [
                posting(
                    external_id=f"p{i}",
                    title=f"Production Manager {i}",
                    url=f"https://a.example/{i}",
                )
                for i in range(5)
            ],
        )


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"q": MANY_ORS[:480]}, 400, "too many words"),
        ({"q": MANY_ORS}, 422, "500"),
        ({"q": NESTED[:400]}, 400, "nested too deep"),
        ({"q": "x" * 501}, 422, "500"),
        ({"since": "99999999d"}, 400, "too far"),
        ({"since": "9" * 5000 + "d"}, 422, "40"),
        ({"within": "nan", "location": "Detroit, MI"}, 422, "finite"),
        ({"within": "inf", "location": "Detroit, MI"}, 422, "finite"),
        ({"min_salary": "-inf"}, 422, "finite"),
        ({"limit": "0"}, 400, "limit must be between 1 and 1000"),
        ({"limit": "100000"}, 400, "limit must be between 1 and 1000"),
        ({"limit": str(2**70)}, 422, "less than or equal to"),
        ({"offset": "-1"}, 400, "offset must not be negative"),
        ({"offset": str(2**70)}, 422, "less than or equal to"),
        ({"q": "manager\x00"}, 200, ""),
        ({"industry": "\x00", "skill": "lean\x00"}, 200, ""),
    ],
)
def test_api_refuses_bad_input_clearly(client, stored, params, status, says):
    response = client.get("/api/jobs", params=params)
    assert response.status_code == status, response.text
    assert says in response.text


def test_api_job_id_out_of_range_is_a_422(client, stored):
    assert client.get(f"/api/jobs/{2**70}").status_code == 422
    assert client.get(f"/api/jobs/{2**40}").status_code == 422
    assert client.get(f"/jobs/{2**40}").status_code == 404


@pytest.mark.parametrize(
    "params",
    [{"since": "99999999d"}, {"q": NESTED[:400]}, {"q": MANY_ORS}, {"q": "a\x00b"}],
)
def test_jobs_page_answers_bad_input_with_a_400_page(client, stored, params):
    response = client.get("/jobs", params=params)
    assert response.status_code in (200, 400), response.text
    if "since" in params:
        assert response.status_code == 400 and "reaches back too far" in response.text


def test_no_generated_request_gets_a_server_error(app, stored):
    """Schemathesis over the app's own OpenAPI document, in-process (ASGI): up to 100 requests per
    operation that fit the schema and 100 that do not."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/jobs", "/api/jobs/{posting_id}"}
    statuses: list[int] = []
    # requests that do not fit the schema exist only where there are parameters to get wrong
    plan = [
        (op, mode)
        for op in operations
        for mode in GenerationMode
        if mode is GenerationMode.POSITIVE or len(op.query) or len(op.path_parameters)
    ]
    for operation, mode in plan:

        @given(case=operation.as_strategy(mode))
        @settings(
            max_examples=100,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        def check(case):
            response = case.call_and_validate(checks=[not_a_server_error])
            statuses.append(response.status_code)

        check()
    assert len(statuses) >= 200  # a few hundred generated requests, none answered 5xx
    print(
        f"{len(statuses)} requests, statuses {sorted(set(statuses))}, {[o.path for o in operations]}"
    )

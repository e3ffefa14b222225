"""schemathesis over every operation of the published OpenAPI schema, against the live stack (uvicorn, a real
worker, PostgreSQL, Redis): whatever a client sends, the answer is never a 5xx.

(Driven through Hypothesis directly: schemathesis' pytest plugin does not run under this pytest.)"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.factories import make_key

pytestmark = pytest.mark.django_db(transaction=True)
EXAMPLES = 80


def test_no_request_to_any_operation_gets_a_server_error(stack):
    token = make_key(credits=100_000, rate_limit_per_minute=1_000_000)[1]
    schema = schemathesis.openapi.from_url(f"{stack.base_url}/api/schema/")
    operations = [result.ok() for result in schema.get_all_operations()]
    names = {f"{op.method.upper()} {op.path}" for op in operations}
    assert names >= {"POST /api/v1/parse", "POST /api/v1/live", "POST /api/v1/collection", "GET /api/v1/account"}
    seen: dict[str, dict[int, int]] = {}
    for operation in operations:
        fuzz_operation(operation, stack.base_url, token, seen.setdefault(f"{operation.method.upper()} {operation.path}",
                                                                          {}))
    print("status codes per operation:", seen)


def fuzz_operation(operation, base_url: str, token: str, counts: dict[int, int]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def fuzz(case):
        for authorization in (f"Bearer {token}", None):  # a real key, and whatever the case carries
            response = case.call(base_url=base_url, timeout=30,
                                 headers={"Authorization": authorization} if authorization else None)
            counts[response.status_code] = counts.get(response.status_code, 0) + 1
            assert response.status_code < 500, (case.method, case.path, case.body, response.status_code,
                                                response.text[:500])

    fuzz()

"""Schemathesis over /api/v1/openapi.json: no input gives a 500, every answer is as documented.

Every operation the OpenAPI document lists is called through the WSGI app (inside the
test's rolled-back transaction, on the real database) with cases schemathesis derives from
the document, in both of its modes: valid input (positive), and input that breaks the
document's types, formats and constraints (negative). Each call carries a fresh admin
bearer token, so staff operations are reached past their 401/403. On every response:

- `not_a_server_error`: never a 5xx, whatever the input;
- `status_code_conformance`: the status is one the operation documents;
- `content_type_conformance`: the body's media type is the documented one;
- `response_headers_conformance`: documented headers (X-Pagination) match their schema;
- `response_schema_conformance`: the body matches the schema of its status.

Unknown query parameters and extra body keys are ignored by design, so schemathesis'
`negative_data_rejection` (which wants them refused) is not run. The run is bounded by
SCHEMATHESIS_EXAMPLES (examples per operation and mode; 10 by default, about 800 calls and
under a minute on two cores); set it higher for a deeper run, e.g. before a release.
"""

from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.auth import service as auth_service
from tests.helpers import bearer

#: examples per operation and mode (43 operations, valid and invalid input)
SETTINGS = settings(
    max_examples=int(os.environ.get("SCHEMATHESIS_EXAMPLES", "10")),
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def test_api_answers_every_case_without_a_server_error_and_as_documented(app, city):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    failures: list[str] = []
    calls = 0
    for operation in operations:
        for mode in MODES:

            @given(case=operation.as_strategy(generation_mode=mode))
            @SETTINGS
            def check(case) -> None:
                nonlocal calls
                calls += 1
                # a fresh token each call: DELETE /auth/tokens/current revokes the one sent
                token = auth_service.issue_token(city.users["admin"])
                case.call_and_validate(headers=bearer(token), checks=CHECKS)

            try:
                check()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # an operation with nothing to break
            except (Exception, BaseExceptionGroup) as exc:  # every operation's findings listed
                failures.append(f"{operation.label} [{mode}]: {exc}"[:3000])
    print(f"\nschemathesis: {len(operations)} operations, {calls} calls, {len(failures)} failing")
    assert not failures, "\n\n".join(failures)

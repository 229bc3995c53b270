"""The JSON API against its own OpenAPI description, with inputs Hypothesis makes up
(schemathesis): no server errors, and every answer's status, type and body as described."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings

from engine.ops.auth import open_session
from tests.ops.conftest import OpsUnderTest


def test_the_api_keeps_to_its_description(ops: OpsUnderTest) -> None:
    """Logged in as a supervisor, every operation of the API, called with generated
    inputs, answers without a server error and as the description says."""
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", ops.client.app)
    token, csrf = open_session(ops.store, ops.users["supervisor"])
    headers = {"cookie": f"gatehound_session={token}", "x-csrf-token": csrf}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10  # the description names every API route

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def answers_as_described(case: Any) -> None:
            case.call_and_validate(headers=headers)

        answers_as_described()

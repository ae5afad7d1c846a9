"""Schemathesis over docs/openapi.yaml: generated and mutated requests to every operation, zero 5xx.

Bounded in time: a fixed number of examples per operation and mode (valid and invalid data), as a
shopper for the phone's API and as a manager for the figures. The visit, location and region of the
requests exist half of the time, so the fuzzing reaches the code behind the 404s.
"""
import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.factories_scored import make_scored_visit

SPEC = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"
OPERATIONS = [result.ok().label for result in schemathesis.openapi.from_path(str(SPEC)).get_all_operations()]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))  # more for a longer hunt: FUZZ_EXAMPLES=500


@pytest.fixture
def world(db, make_visit, make_location, make_region, make_checklist_version, make_user):
    """A shopper with an open visit, a manager, and one scored visit at location L1 of region R1."""
    shopper, manager = make_user("shopper"), make_user("manager")
    version = make_checklist_version()
    location = make_location(make_region(code="R1"), code="L1")
    visit = make_visit(shopper=shopper, checklist_version=version, location=location)
    make_scored_visit(db, location, version, shopper)
    return {"shopper": shopper, "manager": manager, "visit": visit}


def session_cookie(app, user) -> str:
    """Return a signed session cookie of `user`, as the login form would set it."""
    return app.session_interface.get_signing_serializer(app).dumps({"_user_id": user.get_id(), "_fresh": True})


def test_the_description_is_served_and_valid(client):
    assert client.get("/api/v1/openapi.json").json["openapi"].startswith("3.")
    assert len(OPERATIONS) >= 11


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode), ids=lambda m: m.value)
@pytest.mark.parametrize("label", OPERATIONS)
def test_no_request_makes_a_server_error(app, world, label, mode):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema.find_operation_by_label(label)
    user = world["manager"] if "/figures" in label else world["shopper"]
    cookies = {"session": session_cookie(app, user)}
    real = {"visit_id": world["visit"].id, "code": "L1" if "locations" in label else "R1"}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None)
    def check(case):
        parameters = case.path_parameters or {}
        for name in parameters:
            if name in real and hash(str(parameters[name])) % 2:
                parameters[name] = real[name]
        case.call_and_validate(cookies=cookies, checks=[schemathesis.checks.not_a_server_error])

    check()

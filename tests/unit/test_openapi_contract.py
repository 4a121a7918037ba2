"""The API's OpenAPI contract, checked from the routes themselves: every ``/v1`` route declares its
response model and the error responses it can give, every error is problem details, money is a
string with a pattern, times are RFC 3339, and every body has an example.

When one of these fails for a route you added: give it ``response_model=`` (a model of
``schemas/views.py`` or your own) and ``responses=errors(...)`` from ``gateway/responses.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import BaseModel

from gateway.main import create_app
from gateway.responses import ProblemDetails
from hub.settings import HubSettings

PROBLEM = "application/problem+json"
MONEY_FIELDS = {
    "amount",
    "amount_owed",
    "costs",
    "value",
    "amount_controlled",
    "amount_deducted",
    "total_value",
    "deducted",
    "paid",
    "held",
    "cap",
    "secured",
}


@pytest.fixture(scope="module")
def app() -> Any:
    return create_app(HubSettings(court_tokens="court-a:token-a", ops_token="ops-token"))


@pytest.fixture(scope="module")
def schema(app: Any) -> dict[str, Any]:
    document: dict[str, Any] = app.openapi()
    return document


def _v1_routes(app: Any) -> list[RouteContext]:
    """Every API route as the app serves it (with its router's prefix and responses)."""
    return [
        r
        for r in iter_route_contexts(app.routes)
        if isinstance(r.original_route, APIRoute) and r.path.startswith("/v1")
    ]


def _required_errors(route: Any) -> set[int]:
    """What every route of its kind can answer: 401 (every /v1 route needs a token), 404 (a path
    names a resource), 422 (any parameter or body), 413 (a body), 409 (an Idempotency-Key)."""
    dependant = route.dependant
    params = [*dependant.path_params, *dependant.query_params, *dependant.header_params]

    def walk(d: Any) -> None:
        for sub in d.dependencies:
            params.extend([*sub.path_params, *sub.query_params, *sub.header_params])
            walk(sub)

    walk(dependant)
    needed = {401}
    if dependant.path_params:
        needed.add(404)
    if params or route.body_field is not None:
        needed.add(422)
    if route.body_field is not None:
        needed.add(413)
    if any(getattr(p.field_info, "alias", None) == "Idempotency-Key" for p in params):
        needed.add(409)
    return needed


def test_every_v1_route_declares_its_response_model_and_its_errors(app: Any) -> None:
    routes = _v1_routes(app)
    assert len(routes) >= 20, [r.path for r in routes]  # the walk sees the API, not an empty app
    faults = []
    for route in routes:
        for method in sorted(route.methods or ()):
            name = f"{method} {route.path}"
            model = route.response_model
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                faults.append(f"{name}: response_model is {model!r}, not a pydantic model")
            declared = {int(k) for k in route.responses if str(k).isdigit()}
            missing = _required_errors(route) - declared
            if missing:
                faults.append(f"{name}: declare responses=errors({', '.join(map(str, sorted(missing)))})")
            for status in sorted(declared):
                if status < 400:
                    continue
                spec = route.responses[status]
                m = spec.get("model")
                if not (isinstance(m, type) and issubclass(m, ProblemDetails)):
                    faults.append(f"{name}: {status} is not declared as ProblemDetails (use errors())")
    assert not faults, "\n".join(faults)


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if path.startswith("/v1")
    ]


def test_every_error_response_is_problem_details_and_500_is_declared(schema: dict[str, Any]) -> None:
    faults = []
    for method, path, op in _operations(schema):
        responses = op["responses"]
        if "500" not in responses:
            faults.append(f"{method} {path}: no 500")
        for status, response in responses.items():
            if status[0] not in "45":
                continue
            content = response.get("content", {})
            if list(content) != [PROBLEM]:
                faults.append(f"{method} {path} {status}: content {list(content)}")
                continue
            ref = content[PROBLEM].get("schema", {}).get("$ref", "")
            target = schema["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
            if not {"type", "title", "status", "detail"} <= set(target.get("properties", {})):
                faults.append(f"{method} {path} {status}: schema {ref} is not problem details")
            if "example" not in content[PROBLEM]:
                faults.append(f"{method} {path} {status}: no example")
    assert not faults, "\n".join(faults)
    assert "HTTPValidationError" not in str([op for _, _, op in _operations(schema)])


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref:
        resolved: dict[str, Any] = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        return resolved
    return node


def _has_example(schema: dict[str, Any], media: dict[str, Any]) -> bool:
    if "example" in media or "examples" in media:
        return True
    node = media.get("schema", {})
    variants = node.get("anyOf") or [node]  # an optional body: the model or null
    targets = [_resolve(schema, v) for v in variants if v.get("type") != "null"]
    return bool(targets) and all(t.get("examples") or t.get("example") for t in targets)


def test_every_request_and_success_body_has_an_example(schema: dict[str, Any]) -> None:
    faults = []
    for method, path, op in _operations(schema):
        body = op.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None and not _has_example(schema, body):
            faults.append(f"{method} {path}: request body without an example (json_schema_extra)")
        for status, response in op["responses"].items():
            media = response.get("content", {}).get("application/json")
            if status.startswith("2") and media is not None and not _has_example(schema, media):
                faults.append(f"{method} {path} {status}: response model without an example")
    assert not faults, "\n".join(faults)


def _properties(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for model, component in schema["components"]["schemas"].items():
        for name, prop in component.get("properties", {}).items():
            out.append((model, name, prop))
    return out


def _variants(prop: dict[str, Any]) -> list[dict[str, Any]]:
    variants = prop.get("anyOf") or prop.get("oneOf") or [prop]
    return [v for v in variants if v.get("type") != "null"]


def test_money_is_a_string_with_a_pattern_never_a_number(schema: dict[str, Any]) -> None:
    faults = []
    checked = 0
    for model, name, prop in _properties(schema):
        if name not in MONEY_FIELDS or "$ref" in prop:
            continue
        for variant in _variants(prop):
            if variant.get("type") in ("object", "array", "integer") or "$ref" in variant:
                continue  # a count (``assets``) or a nested object of the same name
            checked += 1
            if variant.get("type") != "string" or not variant.get("pattern"):
                faults.append(f"{model}.{name}: {variant}: type it schemas.views.MoneyText")
    assert checked >= 15 and not faults, "\n".join(faults)


def test_costs_is_optional_and_defaults_to_zero(schema: dict[str, Any]) -> None:
    case_create = schema["components"]["schemas"]["CaseCreate"]
    assert "costs" not in case_create["required"] and "amount_owed" in case_create["required"]
    assert case_create["properties"]["costs"]["default"] == "0.00"


def test_every_time_in_an_answer_is_rfc3339(schema: dict[str, Any]) -> None:
    faults = []
    checked = 0
    for model, name, prop in _properties(schema):
        if not (name.endswith("_at") or name == "at"):
            continue
        for variant in _variants(prop):
            checked += 1
            if variant.get("type") != "string" or variant.get("format") != "date-time":
                faults.append(f"{model}.{name}: {variant}: type it schemas.views.Timestamp")
    assert checked >= 20 and not faults, "\n".join(faults)


def test_operation_ids_are_the_endpoints_names_and_unique(schema: dict[str, Any]) -> None:
    ids = [op["operationId"] for ops in schema["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert {"create_case", "get_inquiry", "create_batch", "get_batch", "create_order"} <= set(ids)


def test_a_response_model_checks_the_answer_without_changing_its_shape() -> None:
    """Members a route leaves out stay out (a history entry without ``event_id`` gains no null one);
    times gain their offset and money its two decimals; unknown members pass through."""
    from schemas.views import OrderView

    given = {
        "order_id": "ord_1",
        "case_id": "case_1",
        "asset_id": "bank:icbc:1",
        "action": "freeze",
        "amount": "100",
        "status": "pending",
        "expires_at": None,
        "history": [{"event": "submitted", "status": "pending", "at": "2026-11-30T08:00:00", "detail": None}],
        "newer_member": 1,
    }
    shown = OrderView.model_validate(given).model_dump(mode="json")
    assert shown == {
        **given,
        "amount": "100.00",
        "history": [{**given["history"][0], "at": "2026-11-30T08:00:00+00:00"}],  # type: ignore[index]
    }

import json

from app.requests.models import CLOSURE_REASONS, MAX_TEXT
from tests import factories


def test_openapi_document_describes_the_auth_and_metrics_api(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    spec = resp.get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from POST /api/v1/auth/tokens.",
    }
    paths = spec["paths"]
    assert "post" in paths["/api/v1/auth/tokens"]
    assert "security" not in paths["/api/v1/auth/tokens"]["post"]  # it is how you get one
    for path, method in (
        ("/api/v1/auth/tokens/current", "delete"),
        ("/api/v1/auth/me", "get"),
        ("/api/v1/metrics/response-times", "get"),
    ):
        assert paths[path][method]["security"] == [{"bearerAuth": []}], path
    params = {p["name"] for p in paths["/api/v1/metrics/response-times"]["get"]["parameters"]}
    assert {"group_by", "start", "end"} <= params


def _body_schema(spec, path, method="post"):
    content = spec["paths"][path][method]["requestBody"]["content"]
    schema = content["application/json"]["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def test_x_pagination_is_documented_as_the_json_text_it_is(client, city, tokens):
    spec = client.get("/api/v1/openapi.json").get_json()
    header = spec["components"]["headers"]["PAGINATION"]
    assert header["schema"]["type"] == "string"
    assert "JSON" in header["description"]
    for path in ("/api/v1/requests", "/api/v1/departments/{code}/queue"):
        headers = spec["paths"][path]["get"]["responses"]["200"]["headers"]
        assert headers["X-Pagination"] == {"$ref": "#/components/headers/PAGINATION"}
    # and it is what the API sends: a string that parses as the metadata described
    resp = client.get("/api/v1/requests", headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert resp.status_code == 200
    assert json.loads(resp.headers["X-Pagination"]) == {"total": 0, "total_pages": 0}
    factories.submit()
    resp = client.get("/api/v1/requests", headers={"Authorization": f"Bearer {tokens['admin']}"})
    meta = json.loads(resp.headers["X-Pagination"])
    assert meta["total"] == 1 and meta["page"] == 1 and meta["last_page"] == 1


def test_the_constraints_the_api_enforces_are_in_the_document(client, city, tokens):
    spec = client.get("/api/v1/openapi.json").get_json()
    close = _body_schema(spec, "/api/v1/requests/{request_id}/close")
    assert "unless reason is fixed" in close["properties"]["note"]["description"]
    assert close["properties"]["note"]["maxLength"] == MAX_TEXT
    assert close["properties"]["reason"]["enum"] == list(CLOSURE_REASONS)
    reopen = _body_schema(spec, "/api/v1/requests/{request_id}/reopen")
    assert "note" in reopen["required"]
    intake = _body_schema(spec, "/api/v1/requests")
    assert intake["properties"]["description"]["maxLength"] == MAX_TEXT
    assert intake["properties"]["email"]["maxLength"] == 254
    assert intake["properties"]["phone"]["maxLength"] == 40
    params = spec["paths"]["/api/v1/metrics/response-times"]["get"]["parameters"]
    start = next(p for p in params if p["name"] == "start")
    assert "between 1900 and 2199" in start["schema"].get("description", start.get("description"))

    # the refusal says what the document says
    sr = factories.submit()
    auth = {"Authorization": f"Bearer {tokens['admin']}"}
    resp = client.post(
        f"/api/v1/requests/{sr.id}/close", json={"reason": "referred", "note": "  "}, headers=auth
    )
    assert resp.status_code == 422  # the API's answer to a body its schema refuses
    assert "unless the reason is fixed" in json.dumps(resp.get_json())
    resp = client.post(f"/api/v1/requests/{sr.id}/close", json={"reason": "fixed"}, headers=auth)
    assert resp.status_code == 200

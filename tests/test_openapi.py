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

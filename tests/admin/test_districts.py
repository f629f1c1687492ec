"""Districts in the admin area: list, upload, preview, replace all or nothing; flask import."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import box, mapping
from sqlalchemy import func, select

from app.core.audit import AuditEntry
from app.extensions import db
from app.geo.models import District, DistrictPart, DistrictUpload
from app.requests import service as requests_service
from app.requests.models import RoutingRule, ServiceRequest
from tests.factories import WARD_1_POINT, submit
from tests.helpers import bearer, sign_in

NON_ADMINS = ("agent", "dispatcher", "crew", "manager")
#: in the test city's ward 2, and in ward 1 once ward 1 grows east to -71.03
EAST_POINT = (42.32, -71.04)
WARD_1_GROWN = box(-71.10, 42.30, -71.03, 42.35)
WARD_2_SHRUNK = box(-71.03, 42.30, -71.00, 42.35)
WARD_3_NEW = box(-71.10, 42.35, -71.00, 42.40)


def geojson(*features: tuple[Any, Any], **top: Any) -> bytes:
    """Return a FeatureCollection of (code, geometry) with a WARD and a NAME property."""
    return json.dumps(
        {
            "type": "FeatureCollection",
            **top,
            "features": [
                {
                    "type": "Feature",
                    "properties": {"WARD": code, "NAME": f"Ward {code} (new)"},
                    "geometry": geometry if isinstance(geometry, dict) else mapping(geometry),
                }
                for code, geometry in features
            ],
        }
    ).encode()


NEW_WARDS = geojson((1, WARD_1_GROWN), (2, WARD_2_SHRUNK), (3, WARD_3_NEW))


def _upload(client, data: bytes, url: str = "/admin/districts/preview", **fields: str):
    form = {"kind": "ward", "code_property": "WARD", "name_property": "NAME"} | fields
    return client.post(
        url,
        data={**form, "file": (io.BytesIO(data), "wards.geojson")},
        content_type="multipart/form-data",
    )


def _api(client, token: str, data: bytes | None, **fields: str | None):
    """POST a boundary file to the districts API (multipart, as curl -F sends it); a field
    given as None is left out."""
    given = {"kind": "ward", "code_property": "WARD"} | fields
    form: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
    if data is not None:
        form["file"] = (io.BytesIO(data), "wards.geojson")
    return client.post(
        "/api/v1/admin/districts",
        data=form,
        headers=bearer(token),
        content_type="multipart/form-data",
    )


def _wards() -> dict[str, tuple[str, bool]]:
    db.session.expire_all()
    rows = db.session.execute(
        select(District.code, District.name, District.retired).where(District.kind == "ward")
    )
    return {code: (name, retired) for code, name, retired in rows}


def _district_code(sr: ServiceRequest) -> str | None:
    db.session.expire_all()
    stored = db.session.get(ServiceRequest, sr.id)
    return stored.district.code if stored.district else None


def _audit() -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.target_kind == "districts").order_by(AuditEntry.id)
        )
    )


@pytest.mark.parametrize("role", NON_ADMINS)
def test_pages_and_api_are_403_for_other_roles(client, city, tokens, role) -> None:
    sign_in(client, city.users[role])
    assert client.get("/admin/districts").status_code == 403
    assert _upload(client, NEW_WARDS).status_code == 403
    assert client.post("/admin/districts/confirm", data={"token": "x"}).status_code == 403
    auth = bearer(tokens[role])
    assert client.get("/api/v1/admin/districts", headers=auth).status_code == 403
    assert _api(client, tokens[role], NEW_WARDS).status_code == 403
    assert set(_wards()) == {"1", "2"}


def test_the_list_shows_districts_by_kind_with_open_requests(client, city, tokens) -> None:
    submit("pothole", WARD_1_POINT)
    submit("pothole", WARD_1_POINT)
    submit("pothole", EAST_POINT)
    db.session.commit()
    body = client.get("/api/v1/admin/districts", headers=bearer(tokens["admin"])).get_json()
    wards = next(k for k in body if k["kind"] == "ward")
    assert wards["routing"] is True
    assert {d["code"]: d["open_requests"] for d in wards["districts"]} == {"1": 2, "2": 1}
    sign_in(client, city.users["admin"])
    page = client.get("/admin/districts").get_data(as_text=True)
    assert "Ward 1" in page and "Ward 2" in page and 'type="file"' in page
    assert "Districts" in client.get("/admin").get_data(as_text=True)


def test_upload_preview_then_confirm_replaces_and_retags(client, city) -> None:
    moving = submit("pothole", EAST_POINT)
    staying = submit("pothole", WARD_1_POINT)
    db.session.commit()
    sign_in(client, city.users["admin"])

    resp = _upload(client, NEW_WARDS)
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert 'id="moved">1<' in page and 'id="outside">0<' in page
    assert "vendor/leaflet/leaflet.js" in page and "js/districts-preview.js" in page
    # nothing saved by the preview
    assert _wards() == {"1": ("Ward 1", False), "2": ("Ward 2", False)}
    assert _district_code(moving) == "2"
    token = page.split('name="token" value="')[1].split('"')[0]
    # the map reads the previewed file back
    drawn = client.get(f"/admin/districts/uploads/{token}.geojson")
    assert drawn.status_code == 200 and len(drawn.get_json()["features"]) == 3

    resp = client.post(
        "/admin/districts/confirm",
        data={
            "token": token,
            "kind": "ward",
            "code_property": "WARD",
            "name_property": "NAME",
            "filename": "wards.geojson",
        },
    )
    assert resp.status_code == 303
    assert _wards() == {
        "1": ("Ward 1 (new)", False),
        "2": ("Ward 2 (new)", False),
        "3": ("Ward 3 (new)", False),
    }
    assert (_district_code(moving), _district_code(staying)) == ("1", "1")
    # districts keep their ids (requests, routing rules) and their routing pieces follow
    assert db.session.get(District, city.ward1.id).code == "1"
    parts = db.session.scalar(
        select(func.count()).select_from(DistrictPart).where(DistrictPart.kind == "ward")
    )
    assert parts >= 3
    # a new request east of -71.03 now lands in ward 2, north of 42.35 in ward 3
    assert submit("pothole", (42.32, -71.02)).district.code == "2"
    assert submit("pothole", (42.37, -71.05)).district.code == "3"
    [entry] = _audit()
    assert entry.action == "replace" and entry.actor_email == city.users["admin"].email
    assert entry.before == {"districts": ["1", "2"]}
    assert (entry.after["added"], entry.after["changed"], entry.after["moved"]) == (
        ["3"],
        ["1", "2"],
        1,
    )
    assert "geometry" not in json.dumps(entry.after) and entry.after["source"] == "wards.geojson"
    # the upload is forgotten once used
    assert client.get(f"/admin/districts/uploads/{token}.geojson").status_code == 404


def test_the_confirmation_may_reach_another_web_host_than_the_preview(
    app, client, city, tmp_path, monkeypatch
) -> None:
    sign_in(client, city.users["admin"])
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "host-a"))
    page = _upload(client, NEW_WARDS).get_data(as_text=True)
    token = page.split('name="token" value="')[1].split('"')[0]
    assert db.session.get(DistrictUpload, token) is not None  # kept in PostgreSQL

    # the second host has an instance folder of its own
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "host-b"))
    assert client.get(f"/admin/districts/uploads/{token}.geojson").status_code == 200
    resp = client.post(
        "/admin/districts/confirm",
        data={"token": token, "kind": "ward", "code_property": "WARD", "name_property": "NAME"},
    )
    assert resp.status_code == 303
    assert set(_wards()) == {"1", "2", "3"}
    assert db.session.get(DistrictUpload, token) is None


def test_a_removed_district_is_retired_when_closed_requests_name_it(client, city, tokens) -> None:
    closed = submit("pothole", EAST_POINT)
    requests_service.close(closed, reason="fixed", actor_id=city.users["admin"].id, note="Done")
    open_one = submit("pothole", EAST_POINT)
    db.session.commit()
    whole = geojson((1, box(-71.10, 42.30, -71.00, 42.35)))
    resp = _api(client, tokens["admin"], whole)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["removed"], body["changed"], body["moved"], body["applied"]) == (
        ["2"],
        ["1"],
        1,
        True,
    )
    assert _wards() == {"1": ("Ward 1", False), "2": ("Ward 2", True)}
    assert (_district_code(open_one), _district_code(closed)) == ("1", "2")
    assert submit("pothole", EAST_POINT).district.code == "1"


def test_a_removed_district_without_requests_is_deleted_with_its_rules(client, city, tokens):
    from app.requests import routing

    routing.create_rule("graffiti", department_code="PARKS", district_code="2")
    db.session.commit()
    whole = geojson((1, box(-71.10, 42.30, -71.00, 42.35)))
    resp = _api(client, tokens["admin"], whole)
    assert resp.status_code == 200
    assert _wards() == {"1": ("Ward 1", False)}
    assert db.session.scalar(select(func.count()).select_from(RoutingRule)) == 0


def test_a_file_leaving_open_requests_outside_is_refused_with_the_count(
    client, city, tokens
) -> None:
    submit("pothole", EAST_POINT)
    submit("pothole", EAST_POINT)
    db.session.commit()
    only_west = geojson((1, box(-71.10, 42.30, -71.05, 42.35)))
    resp = _api(client, tokens["admin"], only_west)
    assert resp.status_code == 400
    assert "2 open requests would be outside every ward" in resp.get_data(as_text=True)
    assert _wards() == {"1": ("Ward 1", False), "2": ("Ward 2", False)}
    assert _audit() == []
    sign_in(client, city.users["admin"])
    page = _upload(client, only_west).get_data(as_text=True)
    assert "This file cannot be used" in page and 'action="/admin/districts/confirm"' not in page


def test_a_dry_run_changes_nothing(client, city, tokens) -> None:
    resp = _api(client, tokens["admin"], NEW_WARDS, dry_run="true")
    assert resp.status_code == 200
    assert (resp.get_json()["added"], resp.get_json()["applied"]) == (["3"], False)
    assert set(_wards()) == {"1", "2"} and _audit() == []


POINT = {"type": "Point", "coordinates": [-71.08, 42.32]}
FEET = box(787723.7, 2965812.6, 791104.4, 2966918.9)

BAD_FILES = [
    (b"not json at all", "not JSON"),
    (json.dumps({"type": "Feature"}).encode(), "not a GeoJSON FeatureCollection"),
    (geojson(), "no features"),
    (
        geojson(
            (1, WARD_1_GROWN),
            crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2249"}},
        ),
        "EPSG::2249, not WGS 84",
    ),
    (geojson((1, FEET)), "not WGS 84 longitude/latitude"),
    (geojson((1, WARD_1_GROWN), (2, POINT)), "feature 2 (WARD 2) is a Point"),
    (geojson((1, WARD_1_GROWN), (1, WARD_2_SHRUNK)), "WARD 1 appears more than once"),
    (geojson((None, WARD_1_GROWN), (2, WARD_2_SHRUNK)), "feature 1 has no WARD"),
]


@pytest.mark.parametrize(("data", "message"), BAD_FILES)
def test_bad_files_are_refused_with_a_clear_message(client, city, tokens, data, message) -> None:
    resp = _api(client, tokens["admin"], data)
    assert resp.status_code == 400
    assert message in resp.get_json()["message"]
    sign_in(client, city.users["admin"])
    resp = _upload(client, data)
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True).replace("&#39;", "'")
    assert _wards() == {"1": ("Ward 1", False), "2": ("Ward 2", False)}
    assert _audit() == []


def test_missing_fields_and_bad_kind(client, city, tokens) -> None:
    resp = _api(client, tokens["admin"], NEW_WARDS, code_property=None)
    assert resp.status_code == 422 and "code_property" in resp.get_json()["message"]
    resp = _api(client, tokens["admin"], NEW_WARDS, kind="Ward One!")
    assert resp.status_code == 400 and "district kind" in resp.get_json()["message"]
    resp = _api(client, tokens["admin"], None)
    assert resp.status_code == 400 and "`file`" in resp.get_json()["message"]


def test_an_invalid_polygon_is_repaired(client, city, tokens) -> None:
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[-71.10, 42.30], [-71.00, 42.35], [-71.00, 42.30], [-71.10, 42.35]]],
    }
    data = geojson((1, box(-71.10, 42.30, -71.00, 42.35)), (9, bowtie))
    resp = _api(client, tokens["admin"], data, kind="zone")
    assert resp.status_code == 200
    assert resp.get_json()["repaired"] == ["9"] and resp.get_json()["routing"] is False
    assert db.session.scalar(select(func.count()).where(District.kind == "zone")) == 2


# ---------------------------------------------------------------------------------------------
# flask import districts


def _import(app, path: Path, *args: str):
    return app.test_cli_runner().invoke(args=["import", "districts", str(path), *args])


def test_import_command_loads_a_small_file(app, city, tmp_path) -> None:
    path = tmp_path / "council.geojson"
    path.write_bytes(geojson(("A", WARD_1_GROWN), ("B", WARD_2_SHRUNK)))
    result = _import(app, path, "--kind", "council_district", "--code-property", "WARD")
    assert result.exit_code == 0, result.output
    assert "2 added" in result.output
    names = dict(
        db.session.execute(
            select(District.code, District.name).where(District.kind == "council_district")
        ).all()
    )
    assert names == {"A": "Council district A", "B": "Council district B"}
    [entry] = _audit()
    assert entry.actor_email == "" and "flask import districts" in entry.after["source"]
    # again: nothing changes, nothing half-done on a bad file
    assert (
        "2 unchanged"
        in _import(app, path, "--kind", "council_district", "--code-property", "WARD").output
    )
    path.write_bytes(geojson(("A", WARD_1_GROWN), ("A", WARD_2_SHRUNK)))
    result = _import(app, path, "--kind", "council_district", "--code-property", "WARD")
    assert result.exit_code == 1 and "more than once" in result.output


@pytest.fixture
def boundaries_dir(app) -> Path:
    path = Path(app.root_path).parent.parent / "shared" / "data" / "boston_boundaries"
    if not (path / "boston_wards.geojson").is_file():
        pytest.skip(
            f"Boston boundaries not found in {path} (needs ../shared/data next to the repo)"
        )
    return path


@pytest.mark.shared_data
def test_import_command_loads_boston_wards(app, city, boundaries_dir) -> None:
    result = _import(
        app, boundaries_dir / "boston_wards.geojson", "--kind", "ward", "--code-property", "WARD"
    )
    assert result.exit_code == 0, result.output
    wards = _wards()
    assert set(wards) == {str(n) for n in range(1, 23)}
    assert wards["7"] == ("Ward 7", False)
    # Boston's City Hall is in ward 3
    assert submit("pothole", (42.3603, -71.0580)).district.code == "3"


@pytest.mark.shared_data
def test_import_command_refuses_projected_precincts(app, city, boundaries_dir) -> None:
    result = _import(
        app,
        boundaries_dir / "boston_precincts_epsg2249.geojson",
        "--kind",
        "precinct",
        "--code-property",
        "WARD_PRECINCT",
    )
    assert result.exit_code == 1
    assert "not WGS 84" in result.output
    assert db.session.scalar(select(func.count()).where(District.kind == "precinct")) == 0

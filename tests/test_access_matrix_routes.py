"""Every route × every kind of caller: who gets in, who is refused, and who sees private data.

The table below has one entry per rule of `app.url_map` and method; a route added without an
entry fails `test_every_route_has_an_entry`, naming it. Each entry names who is let in, as a
set of callers derived from the app's own role tuples (app/auth/roles.py and the features'
permissions.py), so a change of policy there shows up here as a failing cell.

The callers are those of tests/requests/test_access_matrix.py: anonymous, an agent, Public
Works' dispatcher and crew (the department of the request), Parks' dispatcher and crew (another
department), a manager and an admin. Reads must answer the expected status; writes are sent a
minimal body and only the access decision is checked (refused: 401/403, or a redirect to the
sign-in page; let in: anything else but a server error). Every 200 to a caller who may not read
the request's reporter or internal notes is searched for them.

One city is built per module and every call runs in a savepoint that is rolled back, so a write
cannot change what the next call sees.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import Rule

from app.auth import service as auth_service
from app.auth.models import ApiToken
from app.auth.roles import ADMIN, AGENT, CREW, DEPARTMENT_BOUND, DISPATCHER, MANAGER, ROLES
from app.extensions import db
from app.media import service as media
from app.metrics import permissions as metrics_permissions
from app.notifications.models import Outbox
from app.open311 import keys as open311_keys
from app.requests import lifecycle
from app.requests import permissions as request_permissions
from app.workorders import permissions as workorder_permissions
from app.workorders import service as workorders
from tests import factories
from tests.conftest import rolled_back
from tests.factories import jpeg_bytes
from tests.helpers import bearer, sign_in

REPORTER_NAME = "Rita Reporter"
REPORTER_EMAIL = "rita@example.org"
REPORTER_PHONE = "555-0199"
INTERNAL_NOTE = "Caller sounded upset; do not call before noon"
PRIVATE = (REPORTER_NAME, REPORTER_EMAIL, REPORTER_PHONE, INTERNAL_NOTE)


# ---------------------------------------------------------------------------------------------
# the callers, and the sets of them that the app's role tuples let in


@dataclass(frozen=True)
class Caller:
    role: str | None  # None: not signed in
    department: str | None = None  # the department code of a department-bound role
    crew: str | None = None  # the crew of a crew member


#: the request, work order and photo of the fixture belong to Public Works and its crew A
CALLERS: dict[str, Caller] = {
    "anonymous": Caller(None),
    "agent": Caller(AGENT),
    "dispatcher": Caller(DISPATCHER, "PWD"),
    "parks_dispatcher": Caller(DISPATCHER, "PARKS"),
    "crew": Caller(CREW, "PWD", "crew_a"),
    "parks_crew": Caller(CREW, "PARKS", "parks_crew"),
    "manager": Caller(MANAGER),
    "admin": Caller(ADMIN),
}
WHO = tuple(CALLERS)
Callers = frozenset[str]


def having(*roles: str) -> Callers:
    """The callers signed in with one of `roles`, whatever their department."""
    return frozenset(name for name, c in CALLERS.items() if c.role in roles)


def of_the_department(*roles: str) -> Callers:
    """The callers with one of `roles` who may act on a Public Works request.

    Department-bound roles only in Public Works, as app.requests.permissions.may_handle says.
    """
    return frozenset(
        name
        for name in having(*roles)
        if CALLERS[name].role not in DEPARTMENT_BOUND or CALLERS[name].department == "PWD"
    )


def of_the_crew(*roles: str) -> Callers:
    """The callers with one of `roles` who may work crew A's order (workorders.can_work)."""
    return frozenset(
        name
        for name in of_the_department(*roles)
        if CALLERS[name].role != CREW or CALLERS[name].crew == "crew_a"
    )


PUBLIC: Callers = frozenset(WHO)
SIGNED_IN = having(*ROLES)
ADMIN_ONLY = having(ADMIN)
SUPERVISORS = having(*metrics_permissions.READERS)
DESK = having(*request_permissions.DESK_ROLES)
INTAKE = having(*request_permissions.INTAKE_ROLES)
TRIAGE = having(*request_permissions.TRIAGE_ROLES)
#: who reads the reporter and the internal notes of the Public Works request (may_read_private)
PRIVATE_READERS = of_the_department(*ROLES)


def action(name: str) -> Callers:
    """Who may take request action `name` on the Public Works request."""
    return of_the_department(*request_permissions.ACTION_ROLES[name])


def action_role(name: str) -> Callers:
    """Who passes the role check of action `name`: the department is checked afterwards."""
    return having(*request_permissions.ACTION_ROLES[name])


WO_DISPATCH = of_the_department(*workorder_permissions.DISPATCH_ROLES)
WO_DISPATCH_ROLES = having(*workorder_permissions.DISPATCH_ROLES)
WO_WORK = of_the_crew(*workorder_permissions.WORK_ROLES)
WO_WORK_ROLES = having(*workorder_permissions.WORK_ROLES)
WO_VIEW = of_the_crew(*workorder_permissions.WORK_ROLES) | having(AGENT)
CREW_PAGE = having(*workorder_permissions.CREW_ROLES)


# ---------------------------------------------------------------------------------------------
# the table


@dataclass(frozen=True)
class Access:
    """Who is let in to one method of one rule, and how to call it.

    `ok` is the status a let-in caller gets from a read (None: any status but a refusal or a
    server error, for reads of things the fixture cannot make, such as a mailed token).
    `args` fills the rule's variables where the defaults of `ARGS` do not fit.
    """

    allowed: Callers
    ok: int | None = 200
    args: dict[str, str] = field(default_factory=dict)
    query: str = ""
    #: the body of a write ("{name}" is filled from the fixture's values), so that the
    #: let-in and the refused are told apart by the access check, not by a missing field
    body: dict[str, str] = field(default_factory=dict)


#: rules that need no access decision: served to anyone by design, checked elsewhere
EXEMPT = {
    "/static/<path:filename>",  # the stylesheet and scripts of the pages
    "/api/v1/openapi.json",  # the API's own description: tests/test_openapi.py
    "/healthz",  # the load balancer's liveness probe
    "/readyz",  # the load balancer's readiness probe
}

WEB_FORM = {"ok": None}  # a form page posted empty: a 400 or a re-shown form, either is fine
BOGUS_TOKEN = {"ok": None}  # a mailed link with a made-up token: an error page, not a refusal
DEPT = {"code": "PWD"}
#: a place in Ward 1 for the call form's route preview
PREVIEW_QUERY = "service_code=pothole&lat=42.32&long=-71.07"
TYPE = {"code": "pothole"}

TABLE: dict[str, dict[str, Access]] = {
    # --- resident pages: anyone -------------------------------------------------------------
    "/": {"GET": Access(PUBLIC), "POST": Access(PUBLIC, **WEB_FORM)},
    "/map": {"GET": Access(PUBLIC)},
    "/track": {"GET": Access(PUBLIC, ok=303, query="number={request_id}")},
    "/requests/<int:request_id>": {"GET": Access(PUBLIC)},
    "/requests/<int:request_id>/follow": {"POST": Access(PUBLIC, **WEB_FORM)},
    "/r/<int:request_id>": {"GET": Access(PUBLIC, ok=None)},
    "/follow/<token>": {"GET": Access(PUBLIC, **BOGUS_TOKEN)},
    "/unsubscribe/<token>": {
        "GET": Access(PUBLIC, **BOGUS_TOKEN),
        "POST": Access(PUBLIC, **BOGUS_TOKEN),
    },
    "/survey/<token>": {
        "GET": Access(PUBLIC, **BOGUS_TOKEN),
        "POST": Access(PUBLIC, **BOGUS_TOKEN),
    },
    "/photos/<int:photo_id>/<size>.jpg": {"GET": Access(PUBLIC, ok=None, args={"size": "thumb"})},
    "/performance": {"GET": Access(PUBLIC)},
    "/open-data": {"GET": Access(PUBLIC)},
    "/open-data/counts.csv": {"GET": Access(PUBLIC)},
    "/open-data/requests.csv": {"GET": Access(PUBLIC)},
    "/open-data/requests.geojson": {"GET": Access(PUBLIC)},
    # the signed-in are sent on from the sign-in page
    "/login": {"GET": Access(PUBLIC, ok=None), "POST": Access(PUBLIC, **WEB_FORM)},
    "/logout": {"POST": Access(SIGNED_IN)},
    "/password/set/<token>": {
        "GET": Access(PUBLIC, **BOGUS_TOKEN),
        "POST": Access(PUBLIC, **BOGUS_TOKEN),
    },
    # --- Open311: anyone (posting needs an API key, which is not a role) --------------------
    "/open311/discovery.<any(xml, json):fmt>": {"GET": Access(PUBLIC)},
    "/open311/v2/discovery.<any(xml, json):fmt>": {"GET": Access(PUBLIC)},
    "/open311/v2/requests.<any(xml, json):fmt>": {
        "GET": Access(PUBLIC),
        "POST": Access(PUBLIC, body={"api_key": "{api_key}", "service_code": "pothole"}),
    },
    "/open311/v2/requests/<request_id>.<any(xml, json):fmt>": {"GET": Access(PUBLIC)},
    "/open311/v2/servicerequestupdates.<any(xml, json):fmt>": {"GET": Access(PUBLIC, ok=None)},
    "/open311/v2/services.<any(xml, json):fmt>": {"GET": Access(PUBLIC)},
    "/open311/v2/services/<service_code>.<any(xml, json):fmt>": {"GET": Access(PUBLIC)},
    "/open311/v2/tokens/<token>.<any(xml, json):fmt>": {"GET": Access(PUBLIC, **BOGUS_TOKEN)},
    # --- public API ---------------------------------------------------------------------------
    "/api/v1/services": {"GET": Access(PUBLIC)},
    "/api/v1/addresses": {"GET": Access(PUBLIC, ok=None)},
    "/api/v1/districts/outlines": {"GET": Access(PUBLIC)},
    "/api/v1/map/requests": {"GET": Access(PUBLIC)},
    "/api/v1/requests/nearby": {
        "GET": Access(PUBLIC, query="lat=42.32&long=-71.07&service_code=pothole")
    },
    "/api/v1/requests/<int:request_id>": {"GET": Access(PUBLIC)},
    "/api/v1/requests/<int:request_id>/followers": {"POST": Access(PUBLIC)},
    # residents send photos ahead of their report, and see them again by the upload's token
    "/api/v1/photos": {"POST": Access(PUBLIC)},
    "/photos/uploads/<token>/thumb.jpg": {"GET": Access(PUBLIC, **BOGUS_TOKEN)},
    "/api/v1/auth/tokens": {"POST": Access(PUBLIC)},
    "/api/v1/auth/me": {"GET": Access(SIGNED_IN)},
    "/api/v1/auth/tokens/current": {"DELETE": Access(SIGNED_IN)},
    # --- requests: staff API ------------------------------------------------------------------
    # residents report through the API too: staff search it
    "/api/v1/requests": {"GET": Access(SIGNED_IN), "POST": Access(PUBLIC)},
    "/api/v1/requests/<int:request_id>/events": {"GET": Access(DESK)},
    "/api/v1/requests/<int:request_id>/duplicates": {"GET": Access(DESK)},
    "/api/v1/requests/<int:request_id>/acknowledge": {"POST": Access(action("acknowledge"))},
    "/api/v1/requests/<int:request_id>/close": {
        "POST": Access(action("close"), body={"reason": "fixed", "note": "Filled"})
    },
    "/api/v1/requests/<int:request_id>/reopen": {
        "POST": Access(action("reopen"), body={"note": "Still there"})
    },
    "/api/v1/requests/<int:request_id>/notes": {
        "POST": Access(action("note"), body={"note": "Seen", "public": "false"})
    },
    "/api/v1/requests/<int:request_id>/hold": {
        "POST": Access(action("hold"), body={"reason": "materials", "note": "Waiting"})
    },
    "/api/v1/requests/<int:request_id>/resume": {
        "POST": Access(action("resume"), body={"note": "Back on"})
    },
    "/api/v1/requests/<int:request_id>/merge": {
        "POST": Access(action("merge"), body={"into": "{other_request_id}", "note": "Same hole"})
    },
    "/api/v1/requests/<int:request_id>/transfer": {
        "POST": Access(action("transfer"), body={"service_code": "graffiti", "note": "Not ours"})
    },
    "/api/v1/departments/<code>/queue": {"GET": Access(WO_DISPATCH, args=DEPT)},
    "/api/v1/routing-rules": {"GET": Access(ADMIN_ONLY), "POST": Access(ADMIN_ONLY)},
    "/api/v1/routing-rules/<int:rule_id>": {"DELETE": Access(ADMIN_ONLY)},
    # --- work orders --------------------------------------------------------------------------
    "/api/v1/crews": {"GET": Access(WO_DISPATCH_ROLES)},
    "/api/v1/crews/<int:crew_id>/workorders": {"GET": Access(WO_WORK)},
    "/api/v1/workorders": {"GET": Access(WO_WORK_ROLES), "POST": Access(WO_DISPATCH_ROLES)},
    "/api/v1/workorders/<int:work_order_id>": {"GET": Access(WO_VIEW)},
    "/api/v1/workorders/<int:work_order_id>/start": {"POST": Access(WO_WORK)},
    "/api/v1/workorders/<int:work_order_id>/complete": {"POST": Access(WO_WORK)},
    "/api/v1/workorders/<int:work_order_id>/photos": {"POST": Access(WO_WORK)},
    "/api/v1/workorders/<int:work_order_id>/cancel": {
        "POST": Access(WO_DISPATCH, body={"reason": "Sent twice"})
    },
    "/dispatch": {"GET": Access(WO_DISPATCH_ROLES)},
    "/dispatch/workorders": {"POST": Access(WO_DISPATCH_ROLES)},
    "/dispatch/workorders/<int:work_order_id>/cancel": {
        "POST": Access(WO_DISPATCH, body={"reason": "Sent twice"})
    },
    "/crew": {"GET": Access(CREW_PAGE)},
    "/crew/workorders/<int:work_order_id>/start": {"POST": Access(WO_WORK)},
    "/crew/workorders/<int:work_order_id>/complete": {
        "GET": Access(WO_WORK),
        "POST": Access(WO_WORK),
    },
    "/crew/workorders/<int:work_order_id>/photos": {"POST": Access(WO_WORK)},
    "/crew/requests/<int:request_id>/hold": {
        "POST": Access(action("hold"), body={"reason": "materials", "note": "Waiting"})
    },
    "/crew/requests/<int:request_id>/resume": {
        "POST": Access(action("resume"), body={"note": "Back on"})
    },
    # --- staff pages ----------------------------------------------------------------------------
    "/agent/requests/new": {"GET": Access(INTAKE), "POST": Access(INTAKE, **WEB_FORM)},
    # the call form's own reads and its "add this caller as a follower"
    "/agent/route-preview": {"GET": Access(DESK, query=PREVIEW_QUERY)},
    "/agent/caller-lookup": {"GET": Access(DESK, query="phone=617-555-0199")},
    "/agent/requests/<int:request_id>/followers": {
        "POST": Access(action("follow"), body={"email": "caller@example.org"})
    },
    "/api/v1/requests/route-preview": {"GET": Access(DESK, query=PREVIEW_QUERY)},
    "/api/v1/requests/caller-lookup": {"GET": Access(DESK, query="phone=617-555-0199")},
    "/api/v1/requests/<int:request_id>/followers/on-behalf": {
        "POST": Access(action("follow"), body={"email": "caller@example.org"})
    },
    "/staff/requests": {"GET": Access(DESK)},
    "/staff/requests/<int:request_id>": {"GET": Access(DESK)},
    # crews act from their own page, not the desk's
    "/staff/requests/<int:request_id>/acknowledge": {"POST": Access(action("acknowledge") & DESK)},
    "/staff/requests/<int:request_id>/close": {
        "POST": Access(action("close") & DESK, body={"reason": "fixed", "note": "Filled"})
    },
    "/staff/requests/<int:request_id>/reopen": {
        "POST": Access(action("reopen") & DESK, body={"note": "Still there"})
    },
    "/staff/requests/<int:request_id>/note": {
        "POST": Access(action("note") & DESK, body={"note": "Seen", "public": "false"})
    },
    "/staff/requests/<int:request_id>/hold": {
        "POST": Access(action("hold") & DESK, body={"reason": "materials", "note": "Waiting"})
    },
    "/staff/requests/<int:request_id>/resume": {
        "POST": Access(action("resume") & DESK, body={"note": "Back on"})
    },
    "/staff/requests/<int:request_id>/merge": {
        "POST": Access(
            action("merge") & DESK, body={"into": "{other_request_id}", "note": "Same hole"}
        )
    },
    "/staff/requests/<int:request_id>/transfer": {
        "GET": Access(action("transfer") & DESK),
        "POST": Access(action("transfer") & DESK, body={"service_code": "graffiti", "note": "No"}),
    },
    "/staff/triage": {"GET": Access(TRIAGE)},
    "/staff/photos/<int:photo_id>/<size>": {
        "GET": Access(PRIVATE_READERS, args={"size": "original"})
    },
    # --- metrics --------------------------------------------------------------------------------
    "/metrics": {"GET": Access(SUPERVISORS)},
    "/metrics/data/<name>": {"GET": Access(SUPERVISORS, args={"name": "kpis"})},
    "/metrics/exact": {"GET": Access(SUPERVISORS)},
    "/metrics/targets": {"GET": Access(SUPERVISORS), "POST": Access(SUPERVISORS, **WEB_FORM)},
    "/api/v1/metrics/backlog": {"GET": Access(SUPERVISORS)},
    "/api/v1/metrics/kpis": {"GET": Access(SUPERVISORS)},
    "/api/v1/metrics/map": {"GET": Access(SUPERVISORS)},
    "/api/v1/metrics/response-times": {"GET": Access(SUPERVISORS)},
    "/api/v1/metrics/satisfaction": {"GET": Access(SUPERVISORS)},
    "/api/v1/metrics/scorecard": {"GET": Access(SUPERVISORS)},
    "/api/v1/metrics/trend": {"GET": Access(SUPERVISORS)},
    "/api/v1/metrics/targets": {"GET": Access(SUPERVISORS), "PUT": Access(SUPERVISORS)},
    "/api/v1/metrics/targets/<int:target_id>": {"DELETE": Access(SUPERVISORS)},
    # --- administration: admins only ----------------------------------------------------------
    "/admin": {"GET": Access(ADMIN_ONLY)},
    "/admin/audit": {"GET": Access(ADMIN_ONLY)},
    "/admin/crews": {"GET": Access(ADMIN_ONLY), "POST": Access(ADMIN_ONLY)},
    "/admin/crews/<int:crew_id>": {"POST": Access(ADMIN_ONLY)},
    "/admin/crews/<int:crew_id>/members": {"GET": Access(ADMIN_ONLY), "POST": Access(ADMIN_ONLY)},
    "/admin/departments": {"GET": Access(ADMIN_ONLY), "POST": Access(ADMIN_ONLY)},
    "/admin/departments/<code>": {"POST": Access(ADMIN_ONLY, args=DEPT)},
    "/admin/districts": {"GET": Access(ADMIN_ONLY)},
    "/admin/districts/preview": {"POST": Access(ADMIN_ONLY)},
    "/admin/districts/confirm": {"POST": Access(ADMIN_ONLY)},
    "/admin/districts/uploads/<token>.geojson": {"GET": Access(ADMIN_ONLY, **BOGUS_TOKEN)},
    "/admin/holidays": {"GET": Access(ADMIN_ONLY), "POST": Access(ADMIN_ONLY)},
    "/admin/holidays/<day>/delete": {"POST": Access(ADMIN_ONLY)},
    "/admin/holidays/load": {"POST": Access(ADMIN_ONLY)},
    "/admin/open311/keys": {"GET": Access(ADMIN_ONLY), "POST": Access(ADMIN_ONLY)},
    "/admin/open311/keys/<int:key_id>/revoke": {"POST": Access(ADMIN_ONLY)},
    "/admin/outbox": {"GET": Access(ADMIN_ONLY)},
    "/admin/outbox/<int:outbox_id>/resend": {"POST": Access(ADMIN_ONLY)},
    "/admin/routing-rules": {"GET": Access(ADMIN_ONLY), "POST": Access(ADMIN_ONLY)},
    "/admin/routing-rules/<int:rule_id>/delete": {"POST": Access(ADMIN_ONLY)},
    "/admin/service-types": {"GET": Access(ADMIN_ONLY)},
    "/admin/service-types/<code>": {
        "GET": Access(ADMIN_ONLY, args=TYPE),
        "POST": Access(ADMIN_ONLY, args=TYPE),
    },
    "/admin/service-types/new": {"GET": Access(ADMIN_ONLY), "POST": Access(ADMIN_ONLY)},
    "/admin/service-types/preview": {"POST": Access(ADMIN_ONLY)},
    "/admin/tokens": {"GET": Access(ADMIN_ONLY)},
    "/admin/tokens/<int:token_id>/revoke": {"POST": Access(ADMIN_ONLY)},
    "/admin/users": {"GET": Access(ADMIN_ONLY), "POST": Access(ADMIN_ONLY)},
    "/admin/users/<int:user_id>": {"GET": Access(ADMIN_ONLY), "POST": Access(ADMIN_ONLY)},
    "/api/v1/admin/audit": {"GET": Access(ADMIN_ONLY)},
    "/api/v1/admin/crews": {"GET": Access(ADMIN_ONLY), "POST": Access(ADMIN_ONLY)},
    "/api/v1/admin/crews/<int:crew_id>": {"PATCH": Access(ADMIN_ONLY)},
    "/api/v1/admin/departments": {"GET": Access(ADMIN_ONLY), "POST": Access(ADMIN_ONLY)},
    "/api/v1/admin/departments/<code>": {"PATCH": Access(ADMIN_ONLY, args=DEPT)},
    "/api/v1/admin/districts": {"GET": Access(ADMIN_ONLY), "POST": Access(ADMIN_ONLY)},
    "/api/v1/admin/service-types": {"GET": Access(ADMIN_ONLY), "POST": Access(ADMIN_ONLY)},
    "/api/v1/admin/service-types/<code>": {
        "GET": Access(ADMIN_ONLY, args=TYPE),
        "PATCH": Access(ADMIN_ONLY, args=TYPE),
    },
    "/api/v1/admin/service-types/preview": {"POST": Access(ADMIN_ONLY)},
    "/api/v1/admin/tokens": {"GET": Access(ADMIN_ONLY)},
    "/api/v1/admin/tokens/<int:token_id>": {"DELETE": Access(ADMIN_ONLY)},
    "/api/v1/admin/users": {"GET": Access(ADMIN_ONLY), "POST": Access(ADMIN_ONLY)},
    "/api/v1/admin/users/<int:user_id>": {"GET": Access(ADMIN_ONLY), "PATCH": Access(ADMIN_ONLY)},
    "/api/v1/admin/users/<int:user_id>/password-reset": {"POST": Access(ADMIN_ONLY)},
}


def _methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def _cases() -> list[tuple[str, str]]:
    return [(path, method) for path, methods in TABLE.items() for method in methods]


def test_every_route_has_an_entry(app: Flask) -> None:
    """A new route, or a new method on one, cannot ship without its access decision here."""
    missing = [
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        if rule.rule not in EXEMPT
        for method in _methods(rule)
        if method not in TABLE.get(rule.rule, {})
    ]
    assert not missing, "routes without an entry in the access matrix TABLE: " + ", ".join(
        sorted(missing)
    )
    served = {(r.rule, m) for r in app.url_map.iter_rules() for m in _methods(r)}
    stale = [f"{m} {p}" for p, m in _cases() if (p, m) not in served]
    assert not stale, "access matrix entries for routes that no longer exist: " + ", ".join(stale)


# ---------------------------------------------------------------------------------------------
# the city, built once for the module


@dataclass
class World:
    connection: Any
    values: dict[str, str]
    tokens: dict[str, str]
    cookies: dict[str, str]


@pytest.fixture(scope="module")
def world(app: Flask) -> Iterator[World]:
    """One city, request, note, work order, photo and token per caller, rolled back at the end.

    The outer transaction of the `db_session` fixture, held for the module: each case then
    runs in a savepoint of its own (see `isolated`).
    """
    with rolled_back(app) as connection:
        yield _build_world(app, connection)


def _build_world(app: Flask, connection: Any) -> World:
    city = factories.make_city()
    city.users["parks_crew"] = factories.make_user(
        "parks.crew@city.test", "crew", department_id=city.parks.id, crew_id=city.parks_crew.id
    )
    sr = factories.submit(phone="(617) 555-0199")
    other = factories.submit(point=factories.WARD_1_POINT, **factories.ANONYMOUS)
    lifecycle.add_note(sr, actor_id=city.users["agent"].id, note=INTERNAL_NOTE, public=False)
    wo = workorders.create_work_order([sr.id], city.crew_a.id, actor=city.users["dispatcher"])
    photo = media.attach_photo(
        media.check_photo_bytes(jpeg_bytes(gps=True)), kind="report", request_id=sr.id
    )
    _key, api_key = open311_keys.create_key("Access matrix")
    db.session.commit()
    tokens = {who: auth_service.issue_token(city.users[who]) for who in WHO if who != "anonymous"}
    db.session.commit()
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    cookies = {}
    for who in tokens:
        client = app.test_client()
        sign_in(client, city.users[who])
        cookie = client.get_cookie(cookie_name)
        assert cookie is not None
        cookies[who] = cookie.value
    outbox = db.session.query(Outbox).order_by(Outbox.id).first()
    token_row = db.session.query(ApiToken).order_by(ApiToken.id).first()
    assert outbox is not None and token_row is not None
    values = {
        "request_id": str(sr.id),
        "other_request_id": str(other.id),
        "api_key": api_key,
        "work_order_id": str(wo.id),
        "photo_id": str(photo.id),
        "crew_id": str(city.crew_a.id),
        "user_id": str(city.users["crew"].id),
        "token_id": str(token_row.id),
        "outbox_id": str(outbox.id),
        # no such rule, target or key: a refusal comes before the lookup
        "rule_id": "1",
        "target_id": "1",
        "key_id": "1",
        "day": (datetime.now(UTC) + timedelta(days=400)).date().isoformat(),
        "token": "not-a-real-token",
        "fmt": "json",
        "service_code": "pothole",
    }
    db.session.remove()
    return World(connection, values, tokens, cookies)


def _url(path: str, access: Access, values: dict[str, str]) -> str:
    url = path
    for var, value in (values | access.args).items():
        url = url.replace(f"<{var}>", value).replace(f"<int:{var}>", value)
    url = url.replace("<any(xml, json):fmt>", values["fmt"])
    assert "<" not in url, f"the access matrix cannot fill the variables of {path}"
    query = access.query.format(**values)
    return f"{url}?{query}" if query else url


@pytest.fixture
def isolated(world: World) -> Iterator[World]:
    """Run one case in a savepoint of the module's transaction and roll it back."""
    db.session.remove()  # no savepoint of the session's may enclose the case's
    savepoint = world.connection.begin_nested()
    try:
        yield world
    finally:
        db.session.remove()
        if savepoint.is_active:
            savepoint.rollback()


#: parameters that the API's query schemas refuse with a 422 when they read them
BAD_QUERY = "group_by=nonsense&page=nonsense&per_page=nonsense&status=nonsense"


def _refused(resp: Any, who: str, api: bool) -> bool:
    if who == "anonymous" and not api:
        return resp.status_code == 302 and "/login" in resp.headers.get("Location", "")
    return resp.status_code == (401 if who == "anonymous" else 403)


def _call(app: Flask, world: World, who: str, method: str, url: str, access: Access) -> Any:
    client = app.test_client()
    api = url.startswith("/api/")
    headers: dict[str, str] = {}
    if who != "anonymous":
        if api:
            headers = bearer(world.tokens[who])
        else:
            client.set_cookie(app.config["SESSION_COOKIE_NAME"], world.cookies[who])
    send: Callable[..., Any] = getattr(client, method.lower())
    if method == "GET":
        return send(url, headers=headers)
    body: dict[str, Any] = {k: v.format(**world.values) for k, v in access.body.items()}
    if api:
        # JSON ids are numbers, not the strings a form sends
        body = {k: int(v) if v.isdigit() else v for k, v in body.items()}
        return send(url, headers=headers, json=body)
    return send(url, headers=headers, data=body)


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(("path", "method"), _cases())
def test_access(app: Flask, isolated: World, path: str, method: str, who: str) -> None:
    access = TABLE[path][method]
    url = _url(path, access, isolated.values)
    resp = _call(app, isolated, who, method, url, access)
    body = resp.get_data().decode(errors="replace")  # photos are bytes
    api = url.startswith("/api/")
    where = f"{method} {url} as {who} answered {resp.status_code}: {body[:300]}"
    if who not in access.allowed:
        assert _refused(resp, who, api), "should be refused: " + where
        refused_by_role = CALLERS[who].role not in {CALLERS[a].role for a in access.allowed}
        if api and method == "GET" and refused_by_role:
            # a role refused outright is refused before the query is read (a department
            # is checked against the object the query names, after it)
            probe = _call(
                app, isolated, who, method, url + ("&" if "?" in url else "?") + BAD_QUERY, access
            )
            assert _refused(probe, who, api), (
                f"{where[:80]}... with {BAD_QUERY}: {probe.status_code}"
            )
        return
    assert not _refused(resp, who, api) and resp.status_code < 500, "should be let in: " + where
    if method == "GET" and access.ok is not None:
        assert resp.status_code == access.ok, where
    if resp.status_code == 200 and who not in PRIVATE_READERS:
        leaked = [value for value in PRIVATE if value in body]
        assert not leaked, f"{where[:80]}... shows private data {leaked}"

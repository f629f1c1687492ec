"""The staff menu: each page's link is shown to the roles its own permissions module admits.

It imports the features' permission constants, so it sits at the top with create_app, and
no template spells a role name.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from flask_login import current_user

from app.auth.roles import ADMIN
from app.metrics import permissions as metrics_permissions
from app.requests import permissions as requests_permissions
from app.workorders import permissions as workorders_permissions


@dataclass(frozen=True)
class NavLink:
    endpoint: str
    label: str
    roles: tuple[str, ...]


STAFF_MENU = (
    NavLink("requests.agent_new", "Log a call", requests_permissions.INTAKE_ROLES),
    NavLink("workorders.queue", "Queue", workorders_permissions.DISPATCH_ROLES),
    NavLink("staff.search", "Find a request", requests_permissions.DESK_ROLES),
    NavLink("triage.queue", "Triage", requests_permissions.TRIAGE_ROLES),
    NavLink("workorders.crew_home", "My work", workorders_permissions.CREW_ROLES),
    NavLink("metrics.dashboard", "Metrics", metrics_permissions.READERS),
    NavLink("admin.index", "Admin", (ADMIN,)),
    NavLink("users_admin.users", "Users", (ADMIN,)),
    NavLink("open311_admin.keys", "Open311 keys", (ADMIN,)),
    NavLink("triage.rules", "Routing rules", (ADMIN,)),
    NavLink("sla.holidays", "Holidays", (ADMIN,)),
)


def staff_menu() -> list[NavLink]:
    """Return the menu links the signed-in user may follow (none when signed out)."""
    if not current_user.is_authenticated:
        return []
    return [link for link in STAFF_MENU if current_user.role in link.roles]


def init_app(app: Flask) -> None:
    """Give every template `staff_menu()`."""
    app.context_processor(lambda: {"staff_menu": staff_menu})

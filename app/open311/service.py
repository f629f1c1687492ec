"""GeoReport v2 over requests.service: the open311 package's verbs, for other code to call.

Nothing here decides anything about a request: intake, routing and validation belong to
requests.service. The modules beside this one read GeoReport parameters (params), check API
keys (keys), list services (catalogue), take requests (intake), answer queries (queries) and
FixMyStreet's updates (updates); code inside the package imports them directly.
"""

from __future__ import annotations

from app.open311.catalogue import service_definition, services_json
from app.open311.intake import submit
from app.open311.keys import authenticate_key, create_key, list_keys, revoke_key
from app.open311.queries import (
    RequestQuery,
    find_requests,
    get_request,
    read_query,
    resolve_token,
)
from app.open311.updates import request_updates

__all__ = [
    "RequestQuery",
    "authenticate_key",
    "create_key",
    "find_requests",
    "get_request",
    "list_keys",
    "read_query",
    "request_updates",
    "resolve_token",
    "revoke_key",
    "service_definition",
    "services_json",
    "submit",
]

"""The intake statement: store new requests, routed to their department and district.

One statement stores one request or several (intake_batch groups the POSTs a web process
receives while its previous statement runs): each request is a row of the JSON array
`:rows`, with the columns of INPUT_COLUMNS and of every companion. Its id is drawn from the
sequence before the insert, so that every row of the answer is matched to the request it
came from by `ord`, its place in `:rows`. A request whose point is in no district, or whose
service type is no longer what the caller's catalogue says, is left out of the answer.
"""

from __future__ import annotations

from app.geo.routing import covering_district_sql
from app.requests.routing import rule_sql

#: a request's columns in `:rows`, with their SQL types
INPUT_COLUMNS = (
    "ord int, lat float8, long float8, service_type_id int, department_id int, "
    "description text, address text, channel text, name text, email text, phone text, "
    "notify text, language text, attributes jsonb, requested_at timestamptz, "
    "due_at timestamptz, actor_id int, address_id text, device_id text, account_id text, "
    "media_url text, source_url text, event_data jsonb"
)

#: the district covering (:lat, :long) and the routing rule of :service_type_id there: what
#: intake stores, and what the call form's route preview shows before anything is stored
ROUTE_CTES = f"""
    district AS (
        {covering_district_sql("ST_SetSRID(ST_MakePoint(:long, :lat), 4326)", ":district_kind")}
    ), rule AS (
        {rule_sql(":service_type_id", "(SELECT id FROM district)")}
    )"""

_POINT = "ST_SetSRID(ST_MakePoint(i.long, i.lat), 4326)"


def intake_ctes(columns: str) -> str:
    """Return the statement up to the requests' own writes, reading `columns` from `:rows`.

    Companions' CTEs follow (app/requests/companions.py): each may read `located` (a row per
    request: its `id` and its input columns) and `sr` (the ids stored).
    """
    return f"""
    WITH input AS MATERIALIZED (
        SELECT nextval('service_requests_id_seq') AS id, r.*
        FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r({columns})
    ), located AS MATERIALIZED (
        SELECT i.*, point.geom, district.id AS district_id, district.code AS district_code,
               district.name AS district_name, rule.id AS rule_id,
               rule.department_id AS rule_department_id, rule.department_code,
               rule.department_name, rule.crew_id
        FROM input i
        CROSS JOIN LATERAL (SELECT {_POINT} AS geom) point
        CROSS JOIN LATERAL ({covering_district_sql("point.geom", ":district_kind")}) district
        LEFT JOIN LATERAL ({rule_sql("i.service_type_id", "district.id")}) rule ON true
        -- the caller's (possibly cached) view of the service type must still be true
        WHERE EXISTS (
            SELECT 1 FROM service_types st
            WHERE st.id = i.service_type_id AND st.active AND st.department_id = i.department_id
        )
    ), sr AS (
        INSERT INTO service_requests (
            id, service_type_id, department_id, district_id, description, location, address,
            status, channel, reporter_name, reporter_email, reporter_phone, attributes,
            requested_at, due_at, updated_at, created_by_id,
            address_id, reporter_device_id, reporter_account_id, media_url, crew_id,
            notify, language, source_url
        )
        SELECT l.id, l.service_type_id, COALESCE(l.rule_department_id, l.department_id),
               l.district_id, l.description, l.geom, l.address,
               'new', l.channel, l.name, l.email, l.phone, l.attributes,
               l.requested_at, l.due_at, l.requested_at, l.actor_id,
               l.address_id, l.device_id, l.account_id, l.media_url, l.crew_id,
               l.notify, l.language, l.source_url
        FROM located l
        RETURNING id
    ), ev AS (
        INSERT INTO request_events (request_id, kind, at, actor_id, to_status, public, data)
        SELECT l.id, 'created', l.requested_at, l.actor_id, 'new', true,
               -- a rule's department replaces the type's; its id and crew say why
               l.event_data || jsonb_strip_nulls(jsonb_build_object(
                   'department', l.department_code, 'routing_rule_id', l.rule_id,
                   'crew_id', l.crew_id
               ))
        FROM located l JOIN sr USING (id)
    )"""


#: the answer: a row per request stored; `{extra}` takes the companions' columns
INTAKE_SELECT = """
    SELECT l.ord, l.id, l.district_code, l.district_name,
           l.department_code, l.department_name, l.crew_id{extra}
    FROM located l JOIN sr USING (id)
"""

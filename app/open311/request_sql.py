"""GET requests answers written by PostgreSQL: one statement returns the page's JSON text.

Each GeoReport request is a row_to_json of columns named as the spec names them, so no ORM
object, Row or dict is made per request in Python: the view sends the text as the body (and
XML is made from that JSON, so both formats carry the same values). The rules are the ones
queries.py had in Python: no reporter column is selected, a sensitive type's point is
generalised (geo.privacy) and its address left out, media_url is the first report photo,
else the last public closure photo, else the client's URL.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import text

from app.extensions import db
from app.geo.privacy import public_point_params, public_point_sql
from app.open311.catalogue import service_notice_sql
from app.open311.sql_text import (
    as_json_array,
    clean,
    jsonb_param,
    needs_cleaning,
    photo_url_sql,
    rounded,
    set_city_timezone,
    timezone_params,
    w3c,
)

CLOSURE_PHRASES = {
    "fixed": "Fixed.",
    "no_action_needed": "Closed: no action was needed.",
    "duplicate": "Closed as a duplicate of an earlier request.",
    "referred": "Referred to the agency responsible.",
    "could_not_locate": "Closed: the problem could not be located.",
}
NOTE_TYPES = {"created": "submitted", "closed": "closed", "reopened": "opened", "note": "note"}
EVENT_SUMMARIES = {
    "created": "Request received",
    "acknowledged": "Acknowledged by the department",
    "assigned": "A crew was assigned",
    "status_changed": "Status changed",
    "note": "Note",
    "reopened": "Reopened",
    "merged": "Merged into another request",
    "closed": "Closed",
}

_ORDER = "p.requested_at DESC, p.id DESC"
# the reporter's columns are deliberately absent: nothing below can leak them
_PAGE_COLUMNS = ", ".join(
    f"sr.{name}"
    for name in (
        "id status closure_reason closure_note description requested_at updated_at due_at"
        " address address_id location media_url channel service_type_id department_id"
    ).split()
)

# per request, only for the page's rows; a closed request's notes are its closure note
_DERIVED = """
SELECT coalesce(
         (SELECT min(ph.id) FROM photos ph WHERE ph.request_id = p.id AND ph.kind = 'report'),
         (SELECT (e.data->>'photo_id')::bigint FROM request_events e
           WHERE e.request_id = p.id AND e.kind = 'closed' AND e.public
           ORDER BY e.id DESC LIMIT 1)) AS photo_id,
       CASE WHEN p.status = 'closed'
            THEN coalesce(nullif(p.closure_note, ''), CAST(:phrases AS jsonb) ->> p.closure_reason,
                          'Closed.')
            ELSE (SELECT e.note FROM request_events e
                   WHERE e.request_id = p.id AND e.public AND e.note <> ''
                   ORDER BY e.id DESC LIMIT 1)
       END AS status_notes,
       CASE WHEN st.sensitive THEN NULL ELSE nullif(p.address, '') END AS address,
       CASE WHEN st.sensitive THEN NULL ELSE nullif(p.address_id, '') END AS address_id,
       ST_Y(p.location) AS lat, ST_X(p.location) AS long
OFFSET 0
"""
# OFFSET 0 keeps each LATERAL a subquery of its own: flattened, its expressions would be
# copied into every use (the note's subquery run twice, the text test eight times)

_TEXT = (
    "x.status_notes",
    "st.name",
    "st.code",
    "p.description",
    "d.name",
    "x.address",
    "x.address_id",
    "p.media_url",
)
#: whether any text of the request needs clean()'s rewrite: one test for all
_DIRTY = f"SELECT {needs_cleaning(*_TEXT)} AS dirty OFFSET 0"

_ITEM = f"""
SELECT p.id::text AS service_request_id,
       CASE WHEN p.status = 'closed' THEN 'closed' ELSE 'open' END AS status,
       {clean("x.status_notes", dirty="c.dirty")} AS status_notes,
       {clean("st.name", dirty="c.dirty")} AS service_name,
       {clean("st.code", dirty="c.dirty")} AS service_code,
       {clean("p.description", dirty="c.dirty")} AS description,
       {clean("d.name", dirty="c.dirty")} AS agency_responsible,
       {service_notice_sql("st.sla_value", "st.sla_unit")} AS service_notice,
       {w3c("p.requested_at")} AS requested_datetime,
       {w3c("p.updated_at")} AS updated_datetime,
       {w3c("p.due_at")} AS expected_datetime,
       {clean("x.address", dirty="c.dirty")} AS address,
       {clean("x.address_id", dirty="c.dirty")} AS address_id,
       NULL::text AS zipcode,
       {rounded("pub.lat", 7)} AS lat,
       {rounded("pub.long", 7)} AS long,
       CASE WHEN x.photo_id IS NOT NULL AND x.photo_id <> 0 THEN {photo_url_sql("x.photo_id")}
            ELSE {clean("nullif(p.media_url, '')", dirty="c.dirty")} END AS media_url
"""

# Chicago-style extensions: our detailed status, and the public history as notes
_EXTENSIONS = f"""
       , json_build_object(
           'detailed_status', p.status,
           'closure_reason', p.closure_reason,
           'channel', p.channel,
           'media_urls', (
             SELECT coalesce(json_agg({photo_url_sql("m.photo_id")} ORDER BY m.o1, m.o2), '[]')
               FROM (SELECT ph.id::text AS photo_id, 0 AS o1, ph.id AS o2 FROM photos ph
                      WHERE ph.request_id = p.id AND ph.kind = 'report'
                     UNION ALL
                     SELECT e.data->>'photo_id', 1, e.id FROM request_events e
                      WHERE e.request_id = p.id AND e.public AND e.kind = 'closed'
                        AND e.data->'photo_id' IS NOT NULL
                        AND e.data->'photo_id' NOT IN ('null', '0', 'false', '""')) m)
         ) AS extended_attributes,
         (SELECT coalesce(json_agg(json_build_object(
                   'datetime', {w3c("e.at")},
                   'type', coalesce(CAST(:note_types AS jsonb) ->> e.kind, 'activity'),
                   'summary', {clean("coalesce(CAST(:summaries AS jsonb) ->> e.kind, e.kind)")},
                   'description', {clean("nullif(e.note, '')")},
                   'status', e.to_status) ORDER BY e.id), '[]')
            FROM request_events e WHERE e.request_id = p.id AND e.public) AS notes
"""


def requests_json(
    where: list[str],
    params: dict[str, Any],
    *,
    limit: int,
    offset: int = 0,
    extensions: bool = False,
    by_service_code: bool = False,
) -> str:
    """Return the JSON text of the requests matching `where`, most recent first.

    `where` are SQL conditions on `sr` (service_requests) and, with by_service_code, `st`
    (its service type); `params` their values.
    """
    join = "JOIN service_types st ON st.id = sr.service_type_id" if by_service_code else ""
    statement = f"""
WITH page AS (
  SELECT {_PAGE_COLUMNS} FROM service_requests sr {join}
   WHERE {" AND ".join(where) or "true"}
   ORDER BY sr.requested_at DESC, sr.id DESC
   LIMIT :limit OFFSET :offset
)
SELECT {as_json_array("row_to_json(r)::text", _ORDER)}
  FROM page p
  JOIN service_types st ON st.id = p.service_type_id
  JOIN departments d ON d.id = p.department_id
  CROSS JOIN LATERAL ({_DERIVED}) x
  CROSS JOIN LATERAL ({_DIRTY}) c
  CROSS JOIN LATERAL ({public_point_sql("x.lat", "x.long", "st.sensitive")}) pub
  CROSS JOIN LATERAL ({_ITEM}{_EXTENSIONS if extensions else ""}) r
"""
    values = {
        **params,
        **timezone_params(),
        **public_point_params(),
        "limit": limit,
        "offset": offset,
        "phrases": jsonb_param(CLOSURE_PHRASES),
        "base": current_app.config["PUBLIC_BASE_URL"],
    }
    if extensions:
        values["note_types"] = jsonb_param(NOTE_TYPES)
        values["summaries"] = jsonb_param(EVENT_SUMMARIES)
    session = db.session
    session.execute(text(set_city_timezone()), values)
    return session.execute(text(statement), values).scalar_one()

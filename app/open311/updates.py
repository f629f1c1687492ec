"""FixMyStreet's service request updates: public status changes and notes in a time window."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import text

from app.core.clock import utcnow
from app.extensions import db
from app.open311.params import DEFAULT_WINDOW, MAX_REQUESTS
from app.open311.request_sql import EVENT_SUMMARIES
from app.open311.sql_text import (
    as_json_array,
    clean,
    jsonb_param,
    photo_url_sql,
    set_city_timezone,
    timezone_params,
    w3c,
)

#: our statuses and closure reasons in FixMyStreet's lower-case extended statuses
FMS_STATUS = {
    "new": "open",
    "acknowledged": "open",
    "assigned": "action_scheduled",
    "in_progress": "in_progress",
    "on_hold": "investigating",
}
FMS_CLOSED = {
    "fixed": "fixed",
    "no_action_needed": "no_further_action",
    "duplicate": "duplicate",
    "referred": "not_councils_responsibility",
    "could_not_locate": "closed",
}


# Written by PostgreSQL, as request_sql writes requests: a page is up to 1,000 updates, and
# building them in Python cost several times the statement itself.
_STATEMENT = f"""
WITH page AS (
  SELECT e.id, e.request_id, e.kind, e.at, e.note, e.to_status, e.data
    FROM request_events e
   WHERE e.at >= :start AND e.at <= :end AND e.public
     AND e.kind NOT IN ('created', 'routed') AND (e.kind <> 'note' OR e.note <> '')
   ORDER BY e.id
  OFFSET :offset LIMIT :limit
)
SELECT {as_json_array("row_to_json(r)::text", "p.id")}
  FROM page p
  CROSS JOIN LATERAL (
    SELECT CASE
             WHEN p.kind = 'closed'
               THEN coalesce(CAST(:fms_closed AS jsonb) ->> (p.data->>'reason'), 'closed')
             WHEN p.kind = 'merged' THEN 'duplicate'
             WHEN p.kind = 'reopened' THEN 'reopen'
             ELSE (
               -- the request's status when the event happened: a note carries none of its own
               SELECT CASE WHEN b.to_status = 'closed' THEN 'closed'
                           ELSE coalesce(CAST(:fms_status AS jsonb) ->> b.to_status, 'open') END
                 FROM (SELECT coalesce(
                         (SELECT nullif(b.to_status, '') FROM request_events b
                           WHERE b.request_id = p.request_id AND b.id <= p.id
                             AND b.to_status IS NOT NULL
                           ORDER BY b.id DESC LIMIT 1), 'new') AS to_status) b)
           END AS status,
           p.data->'photo_id' AS photo_id,
           coalesce(CAST(:summaries AS jsonb) ->> p.kind, p.kind) AS summary
  ) s
  CROSS JOIN LATERAL (
    SELECT p.id::text AS update_id,
           p.request_id::text AS service_request_id,
           s.status,
           {w3c("p.at")} AS updated_datetime,
           {clean("coalesce(nullif(p.note, ''), s.summary || '.')")} AS description,
           CASE WHEN s.photo_id IS NULL OR s.photo_id IN ('null', '0', 'false', '""') THEN ''
                ELSE {photo_url_sql("(p.data->>'photo_id')")} END AS media_url,
           nullif(p.to_status, '') AS external_status_code
  ) r
"""


def request_updates(
    start: datetime | None, end: datetime | None, *, page: int = 1, page_size: int = MAX_REQUESTS
) -> str:
    """Return the public status changes and notes between two times, oldest first, by page,
    as the JSON text of the array.

    Page 1 has the oldest `page_size` updates of the window, page 2 the next, and so on: a
    poller reads pages until one comes back short, so no update of a busy window is lost.
    """
    if end is None:
        end = start + DEFAULT_WINDOW if start is not None else utcnow()
    if start is None:
        start = end - DEFAULT_WINDOW
    values = {
        **timezone_params(),
        "start": start,
        "end": end,
        "offset": (page - 1) * page_size,
        "limit": page_size,
        "fms_closed": jsonb_param(FMS_CLOSED),
        "fms_status": jsonb_param(FMS_STATUS),
        "summaries": jsonb_param(EVENT_SUMMARIES),
        "base": current_app.config["PUBLIC_BASE_URL"],
    }
    db.session.execute(text(set_city_timezone()), values)
    return db.session.execute(text(_STATEMENT), values).scalar_one()

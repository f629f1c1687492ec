"""The live preview of a service type being edited: its resident form and Open311 definition.

Both come from the real renderers (the resident form's question macro, the GeoReport
definition), fed a type that is never saved, so the preview cannot drift from what
residents and Open311 clients will get.
"""

from __future__ import annotations

from typing import Any

from flask import render_template

from app.open311.catalogue import definition_of
from app.requests.catalogue import check_emergency_notice, check_questions
from app.requests.models import ServiceType
from app.requests.views import questions


def preview(
    code: str, name: str, attributes: list[dict[str, Any]], emergency_notice: str = ""
) -> dict[str, Any]:
    """Return {"form_html", "definition"} of a type as edited, not saved.

    :raises DomainError: a malformed question or notice, as saving would say (400).
    """
    draft = ServiceType(
        code=(code or "").strip() or "new-type",
        name=(name or "").strip() or "New service type",
        attributes=check_questions(attributes),
        emergency_notice=check_emergency_notice(emergency_notice),
    )
    form_html = render_template("admin/_service_type_preview.html", st=draft, qs=questions(draft))
    return {"form_html": form_html, "definition": definition_of(draft)}

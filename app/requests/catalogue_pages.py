"""The admin pages of the service catalogue: types, their SLA, and their questions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from app.auth.permissions import roles_required
from app.auth.roles import ADMIN
from app.core.errors import DomainError
from app.extensions import db
from app.org import service as org
from app.requests import catalogue, catalogue_admin, catalogue_edit, catalogue_preview
from app.requests.models import ServiceType
from app.sla.calendar import SLA_UNITS

bp = Blueprint("catalogue_admin", __name__, url_prefix="/admin/service-types")

_TEXT = ("name", "description", "group", "keywords", "emergency_notice")
_FLAGS = ("completion_photo_required", "triage", "active", "public", "sensitive")


def _values(text: str) -> list[dict[str, str]]:
    """Parse a list question's values, one per line: `key=Name` or just `key`."""
    values = []
    for line in text.splitlines():
        if line.strip():
            key, _, name = line.partition("=")
            values.append({"key": key.strip(), "name": (name or key).strip()})
    return values


def _questions(form: MultiDict[str, str]) -> list[dict[str, Any]]:
    """Read the question rows of the form, in the order the admin numbered them."""
    rows = []
    for i in range(form.get("q-count", 0, type=int)):
        prefix = f"q-{i}-"
        code = form.get(prefix + "code", "").strip()
        if form.get(prefix + "remove") or not (code or form.get(prefix + "description", "")):
            continue
        datatype = form.get(prefix + "datatype", "string")
        question: dict[str, Any] = {
            "code": code,
            "description": form.get(prefix + "description", "").strip(),
            "datatype": datatype,
            "required": bool(form.get(prefix + "required")),
            "variable": True,
        }
        if datatype.endswith("valuelist"):
            question["values"] = _values(form.get(prefix + "values", ""))
        rows.append((form.get(prefix + "order", i + 1, type=int), i, question))
    rows.sort(key=lambda row: (row[0], row[1]))
    return [{**q, "order": n} for n, (_, _, q) in enumerate(rows, start=1)]


def _changes(form: MultiDict[str, str]) -> dict[str, Any]:
    """Turn the form into the catalogue's field names; a bad number is a clear message."""
    changes: dict[str, Any] = {name: form.get(name, "").strip() for name in _TEXT}
    changes.update({flag: bool(form.get(flag)) for flag in _FLAGS})
    try:
        changes["sla_value"] = int(form.get("sla_value", ""))
    except ValueError:
        raise DomainError("The SLA target is a whole number above 0.", field="sla_value") from None
    changes["sla_unit"] = form.get("sla_unit", "")
    dept = form.get("department", "")
    if not dept:
        raise DomainError("Choose the department that owns the type.", field="department")
    changes["department_id"] = org.get_department(dept).id
    changes["attributes"] = _questions(form)
    return changes


def _form_of(st: ServiceType) -> dict[str, Any]:
    return {
        **{name: getattr(st, name) for name in (*_TEXT, *_FLAGS, "sla_value", "sla_unit")},
        "code": st.code,
        "department": st.department.code,
    }


def _edit_page(
    st: ServiceType | None,
    *,
    form: Mapping[str, Any],
    questions: list[dict[str, Any]],
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    try:
        shown = catalogue_preview.preview(
            str(form.get("code") or ""),
            str(form.get("name") or ""),
            questions,
            str(form.get("emergency_notice") or ""),
        )
    except DomainError:
        shown = None  # the form shows what is wrong; the preview waits for a fix
    page = render_template(
        "admin/service_type.html",
        st=st,
        preview=shown,
        form=form,
        questions=[*sorted(questions, key=lambda q: q.get("order", 0)), {}],
        open_requests=catalogue_edit.open_requests_of_type(st) if st is not None else 0,
        departments=org.search_departments(include_inactive=False),
        datatypes=catalogue.ATTRIBUTE_DATATYPES,
        sla_units=SLA_UNITS,
        cache_seconds=current_app.config["CATALOGUE_CACHE_SECONDS"],
        form_seconds=current_app.config["RESIDENT_FORM_CACHE_SECONDS"],
        errors=errors or {},
    )
    return page, status


def _refused(st: ServiceType | None, err: DomainError) -> tuple[str, int]:
    db.session.rollback()
    form: dict[str, Any] = request.form.to_dict()
    for flag in _FLAGS:
        form[flag] = bool(request.form.get(flag))
    questions = _questions(request.form)
    field = {"department_id": "department"}.get(err.field or "", err.field or "form")
    return _edit_page(
        st, form=form, questions=questions, errors={field: err.message}, status=err.status_code
    )


@bp.get("")
@roles_required(ADMIN)
def service_types() -> str:
    """List the service types, active or not, with a search."""
    q = request.args.get("q", "")
    types = catalogue_edit.search_service_types(q)
    return render_template(
        "admin/service_types.html",
        types=types,
        open_requests={st.id: catalogue_edit.open_requests_of_type(st) for st in types},
        q=q,
    )


@bp.get("/new")
@roles_required(ADMIN)
def new() -> tuple[str, int]:
    """Show the form of a new service type."""
    form = {"sla_unit": "hours", "completion_photo_required": True, "active": True, "public": True}
    return _edit_page(None, form=form, questions=[])


@bp.post("/new")
@roles_required(ADMIN)
def create() -> Response | tuple[str, int]:
    """Add a service type from the form."""
    try:
        st = catalogue_admin.create(request.form.get("code", ""), _changes(request.form))
    except DomainError as err:
        return _refused(None, err)
    db.session.commit()
    flash(f"Added {st.name} ({st.code}).", "success")
    return redirect(url_for("catalogue_admin.edit", code=st.code), 303)


@bp.get("/<code>")
@roles_required(ADMIN)
def edit(code: str) -> tuple[str, int]:
    """Show a service type's form."""
    st = catalogue_edit.get_service_type(code)
    return _edit_page(st, form=_form_of(st), questions=list(st.attributes or []))


@bp.post("/<code>")
@roles_required(ADMIN)
def update(code: str) -> Response | tuple[str, int]:
    """Save a service type's form; due times move only when the admin ticked the box."""
    st = catalogue_edit.get_service_type(code)
    try:
        moved = catalogue_admin.update(
            st, _changes(request.form), move_open_due_times=bool(request.form.get("move_due"))
        )
    except DomainError as err:
        return _refused(st, err)
    db.session.commit()
    note = f"; {moved} open requests have new due times" if moved else ""
    flash(f"Saved {st.name} ({st.code}){note}.", "success")
    return redirect(url_for("catalogue_admin.edit", code=st.code), 303)


@bp.post("/preview")
@roles_required(ADMIN)
def preview() -> Response | tuple[Response, int]:
    """Answer the edit page's live preview: the resident form and Open311 definition, as JSON."""
    form = request.form
    try:
        answer = catalogue_preview.preview(
            form.get("code", ""),
            form.get("name", ""),
            _questions(form),
            form.get("emergency_notice", ""),
        )
    except DomainError as err:
        return jsonify(error=err.message), err.status_code
    return jsonify(answer)

"""The districts admin pages: list districts by kind, upload a boundary file, preview, confirm.

An upload is kept in PostgreSQL (geo.uploads) under a random token between the preview and
the confirmation, so the admin confirms exactly the file that was previewed, whichever web
host each step reaches; confirming reads and checks it again, since open requests may have
moved in between.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from app.auth.permissions import roles_required
from app.auth.roles import ADMIN
from app.core.errors import DomainError
from app.extensions import db
from app.geo import boundaries, replace, uploads
from app.geo.routing import routing_kind

bp = Blueprint("districts_admin", __name__, url_prefix="/admin/districts")

_FIELDS = ("kind", "code_property", "name_property")


def _list_page(
    *, form: dict[str, str] | None = None, errors: dict[str, str] | None = None, status: int = 200
) -> tuple[str, int]:
    page = render_template(
        "admin/districts.html",
        kinds=replace.districts_by_kind(),
        routing_kind=routing_kind(),
        without_district=replace.open_requests_without_district(),
        form=form or {"kind": routing_kind()},
        errors=errors or {},
    )
    return page, status


def _refused(err: DomainError, form: dict[str, str]) -> tuple[str, int]:
    db.session.rollback()
    return _list_page(form=form, errors={err.field or "file": err.message}, status=400)


def _read(data: bytes, form: dict[str, str]) -> list[boundaries.Boundary]:
    return boundaries.read_boundaries(
        data,
        kind=replace.check_kind(form["kind"]),
        code_property=form["code_property"],
        name_property=form["name_property"],
    )


@bp.get("")
@roles_required(ADMIN)
def districts() -> tuple[str, int]:
    """List the districts by kind with their open requests, and the upload form."""
    return _list_page()


@bp.post("/preview")
@roles_required(ADMIN)
def preview() -> tuple[str, int]:
    """Check an uploaded boundary file and show what replacing the kind with it would do."""
    form = {name: request.form.get(name, "").strip() for name in _FIELDS}
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise DomainError("Choose a GeoJSON file to upload.", field="file")
        data = upload.read()
        found = _read(data, form)
        plan = replace.replace_districts(form["kind"], found, apply=False)
    except DomainError as err:
        return _refused(err, form)
    token = uploads.keep(data)
    db.session.commit()  # the dry run above left nothing else to commit
    page = render_template(
        "admin/districts_preview.html",
        plan=plan,
        found=found,
        form=form,
        token=token,
        filename=upload.filename,
        status_of=_status_of(plan),
    )
    return page, 200


def _status_of(plan: replace.Replacement) -> dict[str, str]:
    status = {code: "unchanged" for code in plan.unchanged}
    status.update({code: "changed" for code in plan.changed})
    status.update({code: "added" for code in plan.added})
    return status


@bp.get("/uploads/<token>.geojson")
@roles_required(ADMIN)
def upload_file(token: str) -> Response:
    """Serve a kept upload to the preview map."""
    try:
        data = uploads.kept(token)
    except DomainError:
        abort(404)
    return Response(data, mimetype="application/geo+json")


@bp.post("/confirm")
@roles_required(ADMIN)
def confirm() -> Response | tuple[str, int]:
    """Replace the kind's districts with the previewed file, all or nothing."""
    form = {name: request.form.get(name, "").strip() for name in _FIELDS}
    token = request.form.get("token", "")
    try:
        found = _read(uploads.kept(token), form)
        done = replace.replace_districts(
            form["kind"], found, apply=True, source=request.form.get("filename", "")
        )
    except DomainError as err:
        return _refused(err, form)
    uploads.forget(token)
    db.session.commit()
    flash(_done_message(done), "success")
    return redirect(url_for("districts_admin.districts"), 303)


def _done_message(done: replace.Replacement) -> str:
    parts: list[Any] = [
        f"{len(done.added)} added",
        f"{len(done.changed)} changed",
        f"{len(done.removed)} removed",
        f"{len(done.unchanged)} unchanged",
    ]
    moved = f"; {done.moved} open requests changed district" if done.routing else ""
    return f"Replaced the {done.kind} districts: {', '.join(parts)}{moved}."

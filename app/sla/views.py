"""The admin page of the holiday calendar."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.auth.permissions import roles_required
from app.auth.roles import ADMIN
from app.core.errors import DomainError
from app.extensions import db
from app.sla import service

bp = Blueprint("sla", __name__, url_prefix="/admin/holidays")


def _page(errors: dict[str, str] | None = None, form: dict[str, str] | None = None) -> str:
    year = request.args.get("year", type=int)
    return render_template(
        "sla/holidays.html",
        holidays=service.list_holidays(year),
        year=year,
        errors=errors or {},
        form=form or {"date": "", "name": ""},
        today=date.today(),
    )


@bp.get("")
@roles_required(ADMIN)
def holidays() -> str:
    """Show the calendar, with forms to add a day or load a CSV file."""
    return _page()


@bp.post("")
@roles_required(ADMIN)
def add() -> Response | tuple[str, int]:
    """Add a holiday (or rename the one on that day)."""
    form = {"date": request.form.get("date", ""), "name": request.form.get("name", "")}
    try:
        holiday = service.add_holiday(form["date"], form["name"])
    except DomainError as err:
        db.session.rollback()
        return _page({err.field or "date": err.message}, form), 400
    db.session.commit()
    flash(f"{holiday.name} ({holiday.day:%a %b %d, %Y}) is a holiday.", "success")
    return redirect(url_for("sla.holidays"))


@bp.post("/load")
@roles_required(ADMIN)
def load() -> Response | tuple[str, int]:
    """Load a CSV file of date,name rows: all of it or nothing."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page({"file": "Choose a CSV file with the columns date,name."}), 400
    try:
        text = upload.read().decode("utf-8-sig")
        count = service.load_holidays_text(text)
    except UnicodeDecodeError:
        return _page({"file": "The file is not UTF-8 text: save it as CSV (UTF-8)."}), 400
    except DomainError as err:
        db.session.rollback()
        return _page({"file": err.message}), 400
    db.session.commit()
    flash(f"Loaded {count} holidays from {upload.filename}.", "success")
    return redirect(url_for("sla.holidays"))


@bp.post("/<day>/delete")
@roles_required(ADMIN)
def remove(day: str) -> Response | tuple[str, int]:
    """Remove a holiday."""
    try:
        holiday = service.remove_holiday(day)
    except DomainError as err:
        db.session.rollback()
        return _page({"date": err.message}), err.status_code
    db.session.commit()
    flash(f"{holiday.name} ({holiday.day:%b %d, %Y}) is no longer a holiday.", "success")
    return redirect(url_for("sla.holidays"))

"""The admin page of failed outbox messages, with a button to send one again."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from app.auth.permissions import roles_required
from app.auth.roles import ADMIN
from app.core.errors import DomainError
from app.extensions import db
from app.notifications import service

admin_bp = Blueprint("outbox_admin", __name__, url_prefix="/admin/outbox")


@admin_bp.get("")
@roles_required(ADMIN)
def failed() -> str:
    """List messages given up after their last attempt."""
    return render_template("notifications/admin/failed.html", rows=service.failed_rows())


@admin_bp.post("/<int:outbox_id>/resend")
@roles_required(ADMIN)
def resend(outbox_id: int) -> Response | tuple[str, int]:
    """Queue one failed message to be sent again."""
    try:
        row = service.resend(outbox_id)
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(url_for("outbox_admin.failed"))
    recipient = row.recipient
    db.session.commit()
    flash(f"Message {outbox_id} to {recipient} is queued again.", "success")
    return redirect(url_for("outbox_admin.failed"))

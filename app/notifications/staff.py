"""Set-password emails to staff: an invitation to a new account, or a password reset.

The outbox row keeps the account id and the fingerprint its link is bound to, never the
link: the token is signed when the message is built, and dies once the password is set
(see app.auth.links).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from app.auth import links, signals
from app.requests.presenters import public_url_for

#: the outbox event of a set-password email
STAFF_PASSWORD_EVENT = "staff_password"


def on_password_link_requested(
    sender: Flask, *, user_id: int, email: str, kind: str, fingerprint: str, **_: Any
) -> None:
    """Owe the account's owner a set-password email, in the transaction that asked for it."""
    from app.notifications.service import queue_notice  # the service imports the mail builder

    # one email per link: a repeated signal for the same hash sends nothing twice
    queue_notice(
        STAFF_PASSWORD_EVENT,
        None,
        email,
        {"user_id": user_id, "kind": kind, "fingerprint": fingerprint},
        dedupe_key=fingerprint,
    )


def connect_signals(app: Flask) -> None:
    """Listen to this app's auth signals."""
    signals.password_link_requested.connect(on_password_link_requested, sender=app)


def password_context(payload: dict[str, Any], recipient: str) -> dict[str, Any]:
    """Return what a set-password email shows, with a freshly signed link."""
    city = current_app.config["CITY_NAME"]
    token = links.make_token(int(payload["user_id"]), str(payload["fingerprint"]))
    invitation = payload.get("kind") == "invitation"
    return {
        "subject": (
            f"You are invited to {city} 311: choose your password"
            if invitation
            else f"Choose a new password for {city} 311"
        ),
        "invitation": invitation,
        "email": recipient,
        "set_password_url": public_url_for("auth.set_password", token=token),
        "login_url": public_url_for("auth.login"),
        "hours": links.LINK_MAX_AGE_HOURS,
        "city_name": city,
    }

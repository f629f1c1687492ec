"""Signals sent by the auth feature, so that features above it (notifications) can react.

Receivers run inside the sender's transaction: what they write commits or rolls back with it.
"""

from blinker import Namespace

_signals = Namespace()

#: an account needs a set-password link by email (an invitation, or a reset by an admin).
#: kwargs: user_id, email, kind ("invitation" or "reset"), fingerprint (what the link is
#: bound to: see app.auth.links)
password_link_requested = _signals.signal("password-link-requested")

"""Signals sent by requests.service, so that features above it can react without being imported.

Receivers run inside the sender's transaction: what they write commits or rolls back with it.
"""

from blinker import Namespace

_signals = Namespace()

#: sent after a request is stored. kwargs: request_id, channel, language (of the reporter's
#: messages), and reporter_email and reporter_phone: the contacts that asked for news (each
#: empty when the reporter did not choose that channel). An API's POST may have committed the
#: request already (requests.intake, `alone`): writes owed with every new request belong in
#: the intake statement itself (requests.companions), not in a receiver
request_submitted = _signals.signal("request-submitted")

#: sent after a request closes. kwargs: request_id, event_id (of the 'closed' event), reason,
#: note, photo_id (or None), work_order_id (or None), reporter_email
request_closed = _signals.signal("request-closed")

#: sent on every status change. kwargs: request_id, from_status, to_status, kind (of the
#: event recorded: acknowledged, assigned, held, resumed, reopened, closed, status_changed),
#: event_id
request_status_changed = _signals.signal("request-status-changed")

#: sent after a request moves to another service type. kwargs: request_id, event_id,
#: department_id (the new one), previous_department_id
request_transferred = _signals.signal("request-transferred")

#: sent when the retention purge empties requests' personal data. kwargs: request_ids.
#: Receivers forget what they hold about those requests' people; they return a dict of counts.
personal_data_purged = _signals.signal("personal-data-purged")

#: sent when a resident asks what is held about an address. kwargs: email. Receivers return
#: a dict of JSON-ready lists, merged into the export.
personal_data_requested = _signals.signal("personal-data-requested")

#: sent when a resident's address is erased. kwargs: email. Receivers forget it everywhere
#: they hold it and return a dict of counts.
personal_data_erased = _signals.signal("personal-data-erased")

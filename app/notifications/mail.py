"""Build the emails (the reporter's notices, the dispatchers' overdue digest) from templates
and hand them to SMTP (or to disk in development).

Only the standard library speaks SMTP here: smtplib for the transport, email.message for
the MIME structure. Each message carries a Message-ID derived from its outbox row, so that
if a send succeeds but recording it does not (a crash between the two), the repeat that the
sweeper makes is recognisable as the same message.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from typing import Any, cast
from urllib.parse import urlencode

from flask import current_app, render_template

from app.core.clock import utcnow
from app.core.errors import NotFound
from app.extensions import db
from app.media import service as media
from app.notifications import follow, messages, smtp, staff, survey, wording
from app.notifications.mime_policy import notice_policy
from app.notifications.models import Outbox
from app.notifications.smtp import PermanentFailure as PermanentFailure
from app.requests.models import ServiceRequest
from app.requests.presenters import tracking_url
from app.requests.words import closure_email_words

log = logging.getLogger(__name__)

DESCRIPTION_EXCERPT = 280
#: the outbox event of a department's overdue digest (app/notifications/digest.py)
DIGEST_EVENT = "overdue_digest"


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    maintype: str = "image"
    subtype: str = "jpeg"


def build_message(row: Outbox) -> EmailMessage:
    """Render the email an outbox row owes, with its text and HTML parts and attachments."""
    attachments: list[Attachment] = []
    if row.event == DIGEST_EVENT:
        context = _digest_context(row.payload)
        ident = f"{row.id}.{row.event}"
    elif row.event == staff.STAFF_PASSWORD_EVENT:
        context = staff.password_context(row.payload, row.recipient)
        ident = f"{row.id}.{row.event}"
    else:
        context = _request_context(row, attachments)
        ident = f"{row.id}.{row.event}.{context['request_number']}"

    subject = context["subject"]
    # headers written as the default policy writes them, without parsing the plain ones
    msg = EmailMessage(policy=notice_policy)
    msg["Subject"] = subject
    msg["From"] = current_app.config["MAIL_FROM"]
    msg["To"] = row.recipient
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = f"<city311.outbox.{ident}@{_mail_domain()}>"
    msg["X-City311-Outbox"] = str(row.id)
    # RFC 3834: tells vacation responders not to answer a machine
    msg["Auto-Submitted"] = "auto-generated"
    if context.get("unsubscribe_url"):
        # RFC 2369 and RFC 8058: the mail client's own "unsubscribe" button, one click
        msg["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    lang = context.get("lang", wording.DEFAULT_LANGUAGE)
    msg.set_content(render_template(wording.template(row.event, "txt", lang), **context))
    msg.make_alternative(boundary=_boundary())
    msg.add_alternative(
        render_template(wording.template(row.event, "html", lang), **context), subtype="html"
    )
    if context.get("photo_cid") and attachments:
        # shown in the HTML body (multipart/related) and attached too, for clients that
        # block inline images or drop the HTML part
        html_part = cast(EmailMessage, msg.get_body(preferencelist=("html",)))
        html_part.make_related(boundary=_boundary())
        html_part.add_related(
            attachments[0].data,
            maintype=attachments[0].maintype,
            subtype=attachments[0].subtype,
            cid=f"<{context['photo_cid']}>",
            disposition="inline",
        )
    if attachments:
        msg.make_mixed(boundary=_boundary())
    for item in attachments:
        msg.add_attachment(
            item.data, maintype=item.maintype, subtype=item.subtype, filename=item.filename
        )
    # set last: setting and adding parts moves Content-* headers into the parts
    msg["Content-Language"] = lang
    return msg


def _boundary() -> str:
    """Return a MIME boundary no message text can contain: 128 random bits.

    Given to each multipart part as it is made, so that the generator does not invent one
    (which compiles a new regular expression and searches the whole message for it, about
    a tenth of a receipt's building and flattening).
    """
    return f"=_city311_{secrets.token_hex(16)}"


def _request_context(row: Outbox, attachments: list[Attachment]) -> dict[str, Any]:
    """Return what the reporter's email about one request shows; add its attachments."""
    if row.request_id is None:
        raise NotFound(f"Outbox row {row.id} names no service request.")
    # a drain has read its batch's requests already: no round trip for those
    sr = db.session.get(ServiceRequest, row.request_id)
    if sr is None:
        raise NotFound(f"There is no service request {row.request_id}.")
    lang = recipient_language(row, sr)
    context: dict[str, Any] = {
        "sr": sr,
        "lang": lang,
        "request_number": sr.id,
        "tracking_url": tracking_url(sr.id),
        "city_name": current_app.config["CITY_NAME"],
    }
    if row.event == "receipt":
        description = sr.description.strip()
        if len(description) > DESCRIPTION_EXCERPT:
            description = description[: DESCRIPTION_EXCERPT - 1].rstrip() + "…"
        context.update(
            category=sr.service_type.name,
            department=sr.department.name,
            description=description,
            address=sr.address,
            due_at=sr.due_at,
        )
        subject = wording.subject("receipt", lang, n=sr.id, category=sr.service_type.name)
    elif row.event == "closed":
        reason = row.payload.get("reason") or sr.closure_reason or "fixed"
        phrase, lead = closure_email_words(reason, lang)
        photo = _completion_photo(row.payload.get("photo_id"), sr.id)
        if photo is not None:
            attachments.append(photo)
            context["photo_cid"] = f"photo.{row.id}@{_mail_domain()}"
        context.update(
            reason=reason,
            lead=lead,
            note=(row.payload.get("note") or "").strip(),
            category=sr.service_type.name,
            has_photo=photo is not None,
            parent_url=tracking_url(sr.parent_id) if sr.parent_id else None,
        )
        # a merged duplicate's reporter knows their own number, not the original's
        own = row.payload.get("own_request_id")
        context["merged_from"] = own if own and own != sr.id else None
        subject = wording.subject("closed", lang, n=own or sr.id, phrase=phrase)
    elif row.event == "merged":
        subject = _merged_context(row, sr, context)
    elif row.event == follow.FOLLOW_EVENT:
        context.update(
            category=sr.service_type.name,
            confirm_url=follow.confirm_url(follow.Who(sr.id, row.recipient, lang)),
        )
        subject = wording.subject(follow.FOLLOW_EVENT, lang, n=sr.id)
    elif row.event == survey.SURVEY_EVENT:
        subject = survey.survey_context(row, sr, context)
    elif row.event in messages.UPDATE_EVENTS:
        subject = messages.update_context(row, sr, context)
    else:
        raise ValueError(f"outbox row {row.id} has an unknown event {row.event!r}")
    context["subject"] = subject
    if row.event != follow.FOLLOW_EVENT:
        context["unsubscribe_url"] = follow.unsubscribe_url(follow.Who(sr.id, row.recipient))
    return context


def recipient_language(row: Outbox, sr: ServiceRequest) -> str:
    """Return the language of a notice: the one its row was owed in, else the request's."""
    return wording.language_of(row.payload.get("lang") or sr.language)


def _digest_context(payload: dict[str, Any]) -> dict[str, Any]:
    """Return what a department's overdue digest shows, from the outbox row's snapshot."""
    base = current_app.config["PUBLIC_BASE_URL"]
    generated_at = datetime.fromisoformat(payload["generated_at"])
    day = date.fromisoformat(payload["day"])
    items = [
        {
            **item,
            "due_at": datetime.fromisoformat(item["due_at"]),
            "age": age(datetime.fromisoformat(item["requested_at"]), generated_at),
            "url": f"{base}/staff/requests/{item['id']}",
        }
        for item in payload["items"]
    ]
    overdue, due_soon = payload["overdue"], payload["due_soon"]
    name = payload["department_name"]
    return {
        "subject": (
            f"Overdue digest for {name} on {day:%a %b} {day.day}: "
            f"{overdue} overdue and {due_soon} due by tomorrow"
        ),
        "department_name": name,
        "day": day,
        "generated_at": generated_at,
        "overdue": overdue,
        "due_soon": due_soon,
        "overdue_items": [item for item in items if item["overdue"]],
        "due_soon_items": [item for item in items if not item["overdue"]],
        "more": overdue + due_soon - len(items),
        "queue_url": f"{base}/dispatch?{urlencode({'department': payload['department']})}"
        "&overdue=true",
        "city_name": current_app.config["CITY_NAME"],
    }


def age(since: datetime, now: datetime) -> str:
    """Say how long ago a moment was, in the coarsest unit that fits ("3 d", "5 h")."""
    seconds = max(0, int((now - since).total_seconds()))
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} d"
    if seconds >= 3600:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min"


def _merged_context(row: Outbox, sr: Any, context: dict[str, Any]) -> str:
    """Fill in a 'merged' notice: the report now follows the original; return its subject."""
    into = int(row.payload.get("into") or sr.parent_id or sr.id)
    own = row.payload.get("own_request_id") or sr.id
    context.update(
        own_request=own,
        into=into,
        # the original is where the news and the crew's photo will appear
        request_number=into,
        tracking_url=tracking_url(into),
        note=(row.payload.get("note") or "").strip(),
        category=sr.service_type.name,
    )
    return wording.subject("merged", context["lang"], n=own, into=into)


def _completion_photo(photo_id: int | None, request_id: int) -> Attachment | None:
    # The display derivative is re-encoded from pixels: the original's EXIF/GPS never leaves.
    if not photo_id:
        return None
    try:
        data = media.public_photo_bytes(int(photo_id), "display")
    except (NotFound, OSError):
        # A lost photo must not hold back the notice itself.
        log.warning("completion photo %s of request %s is unavailable", photo_id, request_id)
        return None
    return Attachment(filename=f"request-{request_id}-completed.jpg", data=data)


def _mail_domain() -> str:
    return _domain_of(current_app.config["MAIL_FROM"])


def envelope(row: Outbox) -> tuple[str, list[str]]:
    """Return the SMTP envelope (sender, recipients) of the message built for `row`."""
    return _address_of(current_app.config["MAIL_FROM"]), [row.recipient]


@lru_cache(maxsize=8)
def _address_of(mail_from: str) -> str:
    return parseaddr(mail_from)[1]


@lru_cache(maxsize=8)
def _domain_of(mail_from: str) -> str:
    # once per process, not per message: the configured sender does not change
    return _address_of(mail_from).rpartition("@")[2] or "city311.invalid"


def send(msg: EmailMessage) -> str:
    """Send one message over a connection of its own (a drain shares one: smtp.Sender).

    :raises PermanentFailure: the server refused every recipient with a 5xx reply.
    :raises smtplib.SMTPException, OSError: the server is unreachable or failed; retry later.
    """
    with smtp.Sender() as sender:
        return sender.send(msg)

"""Every check of a new request in one pass: the form and the API report all problems at once.

A resident who leaves out the description, a required question and the phone number for
texts hears about all three on the first submit, not one per round. The checks are the rules
of intake (submit_request runs them too), so there is one home for each.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.core.errors import DomainError
from app.requests.catalogue import CatalogueEntry, catalogue_entry, validate_attribute
from app.requests.models import MAX_TEXT, NOTIFY_CHOICES
from app.requests.words import LANGUAGE_NAMES, LANGUAGES

if TYPE_CHECKING:
    from app.requests.intake import NewRequest

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: what may separate the digits of a phone number as people type it
_PHONE_PUNCTUATION = re.compile(r"[\s().\-/]")


class EmergencyService(DomainError):
    """The type is an emergency: the reporter must call, not file a request."""

    code = "call_emergency"


@dataclass(frozen=True)
class Contact:
    """The reporter's contact as stored: checked, normalised, with the channels chosen."""

    email: str
    phone: str
    notify: str
    language: str


def check_offered(st: CatalogueEntry) -> None:
    """Refuse a public report of an internal type, or of an emergency (which needs a call).

    :raises DomainError: the type is internal: to the public it does not exist (400).
    :raises EmergencyService: the type has an emergency notice, given as the message (400).
    """
    if not st.public:
        raise DomainError(
            f"Unknown service code {st.code!r}: GET /api/v1/services lists the valid codes.",
            field="service_code",
        )
    if st.emergency_notice:
        raise EmergencyService(
            f"{st.emergency_notice} (This is not reported online: {st.name} needs a call.)",
            field="service_code",
        )


def check_description(description: str) -> str:
    """Return the description trimmed.

    :raises DomainError: it is empty or longer than MAX_TEXT.
    """
    description = (description or "").strip()
    if not description:
        raise DomainError("Describe the problem: description is required.", field="description")
    if len(description) > MAX_TEXT:
        raise DomainError(
            f"The description is {len(description)} characters long; the limit is {MAX_TEXT}.",
            field="description",
        )
    return description


def check_location(lat: float, long: float) -> None:
    """Refuse coordinates that are not numbers on the globe.

    :raises DomainError: lat or long missing, not finite or out of range.
    """
    for name, value, bound in (("lat", lat, 90), ("long", long, 180)):
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
        ):
            raise DomainError(f"{name} must be a number in decimal degrees.", field=name)
        if not -bound <= value <= bound:
            raise DomainError(f"{name} must be between -{bound} and {bound}.", field=name)


def sms_number(phone: str, country: str) -> str:
    """Return a phone number in E.164 form (+16175550199), as SMS providers take it.

    Ten digits are a North American number when the country code is 1.

    :raises DomainError: not a number a text message can be sent to.
    """
    digits = _PHONE_PUNCTUATION.sub("", phone or "")
    if digits.startswith("+") and digits[1:].isdigit() and 8 <= len(digits) - 1 <= 15:
        return digits
    if digits.isdigit() and len(digits) == 10 and country == "1":
        return f"+1{digits}"
    if digits.isdigit() and len(digits) == 11 and digits.startswith("1") and country == "1":
        return f"+{digits}"
    raise DomainError(
        "To get text messages, give a mobile number such as (617) 555-0199 or +1 617 555 0199.",
        field="phone",
    )


def _email(new: NewRequest) -> str:
    email = (new.email or "").strip().lower()
    if email and not _EMAIL.match(email):
        raise DomainError(f"{new.email!r} is not an email address.", field="email")
    return email


def _channels(new: NewRequest, email: str, country: str) -> tuple[str, str]:
    """Return (notify, phone) as stored; a phone that gets texts is kept in E.164 form."""
    phone = (new.phone or "").strip()[:40]
    notify = (new.notify or "").strip().lower() or "email"
    if notify not in NOTIFY_CHOICES:
        raise DomainError(
            f"notify must be one of {', '.join(NOTIFY_CHOICES)}, not {new.notify!r}.",
            field="notify",
        )
    if notify in ("email", "both") and not email and new.notify:
        raise DomainError("Give an email address to get updates by email.", field="email")
    if notify in ("sms", "both"):
        if not phone:
            raise DomainError("Give a mobile number to get updates by text.", field="phone")
        phone = sms_number(phone, country)
    return notify, phone


def _language(new: NewRequest) -> str:
    language = new.language or LANGUAGES[0]
    if language not in LANGUAGES:
        choices = ", ".join(f"{code} ({LANGUAGE_NAMES[code]})" for code in LANGUAGES)
        raise DomainError(f"language must be one of {choices}.", field="language")
    return language


@dataclass
class Checked:
    """The outcome of one pass of checks: the clean values, and every problem found."""

    problems: list[DomainError]
    description: str = ""
    contact: Contact | None = None
    entry: CatalogueEntry | None = None

    def raise_first(self) -> None:
        """Raise the first problem, carrying all of them (as the API's `errors` object).

        :raises DomainError: when there is any problem (its class and status are the first's).
        """
        if not self.problems:
            return
        first = self.problems[0]
        if len(self.problems) > 1:
            every: dict[str, list[str]] = {}
            for problem in self.problems:
                every.setdefault(problem.field or "_body", []).append(problem.message)
            first.extra["errors"] = every
        raise first


def _answer_problems(entry: CatalogueEntry, answers: dict[str, object]) -> list[DomainError]:
    problems = []
    for q in entry.attributes or []:
        try:
            validate_attribute(q, answers.get(q["code"]))
        except DomainError as err:
            problems.append(err)
    return problems


def check_request(
    new: NewRequest, *, public: bool, sms_country: str, location: bool = True
) -> Checked:
    """Check everything about a new request that needs no insert; collect every problem.

    `location=False` leaves out the coordinates (the form reports missing ones itself).
    Whether the point is inside the city is known only when the row is stored.
    """
    out = Checked(problems=[])

    def run(check: object, *args: object) -> object:
        try:
            return check(*args)  # type: ignore[operator]
        except DomainError as err:
            out.problems.append(err)
            return None

    out.description = str(run(check_description, new.description) or "")
    if location:
        run(check_location, new.lat, new.long)
    email = run(_email, new)
    # a wrong email is reported once; the channels are still checked (a missing phone, say)
    given = email if isinstance(email, str) else (new.email or "").strip()
    channels = run(_channels, new, given, sms_country)
    language = run(_language, new)
    entry = run(catalogue_entry, new.service_code)
    if isinstance(entry, CatalogueEntry):
        if public and (not entry.public or entry.emergency_notice):
            # a refusal from a cached view of the type: decide again on the type as it is now
            entry = run(lambda: catalogue_entry(new.service_code, fresh=True))
            if isinstance(entry, CatalogueEntry):
                run(check_offered, entry)
    if isinstance(entry, CatalogueEntry):
        answers = new.attributes or {}
        problems = _answer_problems(entry, answers)
        if problems:
            # the questions may have changed since the entry was cached: ask them as they are
            fresh = run(lambda: catalogue_entry(new.service_code, fresh=True))
            if isinstance(fresh, CatalogueEntry) and fresh != entry:
                entry, problems = fresh, _answer_problems(fresh, answers)
        out.problems += problems
        out.entry = entry
    if isinstance(channels, tuple) and isinstance(language, str) and email is not None:
        out.contact = Contact(str(email), channels[1], channels[0], language)
    return out

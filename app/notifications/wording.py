"""The words of residents' messages that are not in their templates: subjects, text messages,
dates, and which template file speaks each language.

Every language of app/requests/words.py LANGUAGES has its own template files (English in
templates/notifications/, every other language in templates/notifications/<code>/) and its
own entries below; the words for statuses, closure and hold reasons live in words.py.
"""

from __future__ import annotations

from datetime import datetime

from app.core.clock import to_city_time
from app.requests.words import LANGUAGES

DEFAULT_LANGUAGE = LANGUAGES[0]

#: each message's subject; {n} is the number the recipient knows their request by
SUBJECTS: dict[str, dict[str, str]] = {
    "en": {
        "receipt": "We received your report {n}: {category}",
        "acknowledged": "Your request {n} has been seen by {department}",
        "assigned": "A crew is scheduled for your request {n}",
        "on_hold": "Your request {n} is on hold: {reason}",
        "resumed": "Work on your request {n} has resumed",
        "transferred": "Your request {n} is now handled by {department}",
        "reopened": "Your request {n} was reopened",
        "closed": "Your request {n} {phrase}",
        "merged": "Your request {n} was merged into request {into}",
        "survey": "Is it fixed? Your request {n}",
        "follow_confirm": "Confirm: follow request {n}",
    },
    "es": {
        "receipt": "Recibimos su reporte {n}: {category}",
        "acknowledged": "{department} ya revisó su solicitud {n}",
        "assigned": "Se programó una cuadrilla para su solicitud {n}",
        "on_hold": "Su solicitud {n} está en pausa: {reason}",
        "resumed": "Se reanudó el trabajo en su solicitud {n}",
        "transferred": "Su solicitud {n} ahora la atiende {department}",
        "reopened": "Su solicitud {n} se reabrió",
        "closed": "Su solicitud {n} {phrase}",
        "merged": "Su solicitud {n} se unió a la solicitud {into}",
        "survey": "¿Ya está resuelto? Su solicitud {n}",
        "follow_confirm": "Confirme: seguir la solicitud {n}",
    },
}

#: each text message, before its short link; {city} gives way to "311" when space runs out
SMS_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "receipt": "{city}: we got your report {n}. Track it here:",
        "acknowledged": "{city}: the department has seen your report {n}.",
        "assigned": "{city}: a crew is scheduled for your report {n}.",
        "on_hold": "{city}: your report {n} is on hold.",
        "resumed": "{city}: work on your report {n} has resumed.",
        "transferred": "{city}: your report {n} moved to another department, same number.",
        "reopened": "{city}: your report {n} was reopened.",
        "closed": "{city}: your request {n} {phrase}.",
        "merged": "{city}: your report {n} was merged with an earlier one.",
        "": "{city}: news about your report {n}.",
    },
    "es": {
        "receipt": "{city}: recibimos su reporte {n}. Sígalo aquí:",
        "acknowledged": "{city}: el departamento ya revisó su reporte {n}.",
        "assigned": "{city}: se programó una cuadrilla para su reporte {n}.",
        "on_hold": "{city}: su reporte {n} está en espera.",
        "resumed": "{city}: se reanudó el trabajo en su reporte {n}.",
        "transferred": "{city}: su reporte {n} pasó a otro departamento, con el mismo número.",
        "reopened": "{city}: su reporte {n} se reabrió.",
        "closed": "{city}: su solicitud {n} {phrase}.",
        "merged": "{city}: su reporte {n} se unió a otro anterior del mismo problema.",
        "": "{city}: hay novedades sobre su reporte {n}.",
    },
}

_WEEKDAYS_ES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
_MONTHS_ES = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)


def language_of(code: str | None) -> str:
    """Return a language we write in: the code itself, or the default for anything else."""
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def template(event: str, extension: str, language: str) -> str:
    """Return the template file of an event's message part ("txt" or "html") in a language."""
    if language == DEFAULT_LANGUAGE:
        return f"notifications/{event}.{extension}"
    return f"notifications/{language_of(language)}/{event}.{extension}"


def subject(event: str, language: str, **values: object) -> str:
    """Return the subject of an event's message in a language."""
    return SUBJECTS[language_of(language)][event].format(**values)


def sms_words(event: str, language: str) -> str:
    """Return the words of an event's text message (with {city}, {n}, {phrase}) in a language."""
    table = SMS_WORDS[language_of(language)]
    return table.get(event) or table[""]


def long_datetime(moment: datetime | None, language: str = DEFAULT_LANGUAGE) -> str:
    """Say a moment in the city's time zone, in full, the way the language writes dates.

    "Monday Dec 07, 2026 at 03:00 PM EST"; "lunes 7 de diciembre de 2026 a las 3:00 p. m. EST".
    """
    local = to_city_time(moment)
    if local is None:
        return ""
    if language_of(language) == "es":
        hour = local.hour % 12 or 12
        half = "a. m." if local.hour < 12 else "p. m."
        return (
            f"{_WEEKDAYS_ES[local.weekday()]} {local.day} de {_MONTHS_ES[local.month - 1]} "
            f"de {local.year} a las {hour}:{local.minute:02d} {half} {local:%Z}"
        )
    return local.strftime("%A %b %d, %Y at %I:%M %p %Z")

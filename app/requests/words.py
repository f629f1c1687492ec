"""The words people read for a request's statuses, closure reasons and history events.

Public pages, staff pages and the reporter's emails say the same thing the same way: they
take their words from here. Codes without words (a newer status) are shown as they are.
Residents' messages come in every language of LANGUAGES: the tables they use have a form
in each, in the *_BY_LANGUAGE mappings below (staff pages are in English).
"""

from __future__ import annotations

#: the languages a reporter's messages are written in; the first is the default
LANGUAGES = ("en", "es")
#: each language in its own words, for the choice on the report form
LANGUAGE_NAMES = {"en": "English", "es": "Español"}
#: how a reporter chose to get updates (service_requests.notify)
NOTIFY_WORDS = {
    "email": "Email only",
    "sms": "Text message only",
    "both": "Email and text message",
    "none": "No updates",
}

#: the words residents read for each status
STATUS_WORDS = {
    "new": "Received",
    "acknowledged": "Acknowledged by the department",
    "assigned": "A crew has been assigned",
    "in_progress": "Work in progress",
    "on_hold": "On hold",
    "closed": "Closed",
}
#: each closure reason, as a label (the staff select, the tracking page)
CLOSURE_WORDS = {
    "fixed": "Fixed",
    "no_action_needed": "No action needed",
    "duplicate": "Duplicate of another report",
    "referred": "Referred to another agency",
    "could_not_locate": "Could not locate the problem",
}
#: each closure reason as the reporter's email tells it: (subject phrase, first line)
CLOSURE_EMAIL_WORDS: dict[str, tuple[str, str]] = {
    "fixed": ("is fixed", "The problem you reported has been fixed."),
    "no_action_needed": (
        "was closed: no action was needed",
        "We looked into your report and found that no work was needed.",
    ),
    "duplicate": (
        "was closed as a duplicate",
        "Someone had already reported this problem; the work is tracked on that report.",
    ),
    "referred": (
        "was referred to another agency",
        "This problem is handled by another agency, and we have passed your report on to it.",
    ),
    "could_not_locate": (
        "was closed: the problem could not be found",
        "The crew could not find the problem at the location given.",
    ),
}
#: the same words in Spanish (Latin American usage, as US cities write to residents)
STATUS_WORDS_ES = {
    "new": "Recibida",
    "acknowledged": "Confirmada por el departamento",
    "assigned": "Se asignó una cuadrilla",
    "in_progress": "Trabajo en curso",
    "on_hold": "En espera",
    "closed": "Cerrada",
}
CLOSURE_WORDS_ES = {
    "fixed": "Reparado",
    "no_action_needed": "No fue necesario hacer nada",
    "duplicate": "Duplicado de otro reporte",
    "referred": "Remitido a otra agencia",
    "could_not_locate": "No se pudo encontrar el problema",
}
#: (subject phrase after "Su solicitud N", first line)
CLOSURE_EMAIL_WORDS_ES: dict[str, tuple[str, str]] = {
    "fixed": ("está resuelta", "El problema que usted reportó ya fue reparado."),
    "no_action_needed": (
        "se cerró: no hizo falta ningún trabajo",
        "Revisamos su reporte y determinamos que no se necesitaba ningún trabajo.",
    ),
    "duplicate": (
        "se cerró por estar duplicada",
        "Alguien ya había reportado este problema; el trabajo se sigue en ese reporte.",
    ),
    "referred": (
        "se remitió a otra agencia",
        "Este problema lo atiende otra agencia, y le enviamos su reporte.",
    ),
    "could_not_locate": (
        "se cerró: no se encontró el problema",
        "La cuadrilla no pudo encontrar el problema en el lugar indicado.",
    ),
}
#: each kind of history event, as the timeline heads it
EVENT_WORDS = {
    "created": "Report received",
    "routed": "Sent to the department",
    "acknowledged": "Acknowledged",
    "assigned": "Crew assigned",
    "status_changed": "Status changed",
    "note": "Update",
    "reopened": "Reopened",
    "merged": "Merged with another report",
    "closed": "Closed",
    "transferred": "Transferred",
    "held": "Put on hold",
    "resumed": "Resumed",
}
EVENT_WORDS_ES = {
    "created": "Reporte recibido",
    "routed": "Enviada al departamento",
    "acknowledged": "Confirmada",
    "assigned": "Cuadrilla asignada",
    "status_changed": "Cambio de estado",
    "note": "Novedad",
    "reopened": "Reabierta",
    "merged": "Unida a otro reporte",
    "closed": "Cerrada",
    "transferred": "Transferida",
    "held": "Puesta en espera",
    "resumed": "Reanudada",
}
NOTIFY_WORDS_ES = {
    "email": "Solo por correo electrónico",
    "sms": "Solo por mensaje de texto",
    "both": "Por correo electrónico y mensaje de texto",
    "none": "No quiero recibir novedades",
}
#: why a request waits on hold, as staff and residents read it
HOLD_WORDS = {
    "waiting_on_resident": "Waiting on the resident",
    "other_agency": "Waiting on another agency",
    "materials": "Waiting for materials",
    "weather": "Waiting for the weather",
    "other": "Other",
}
HOLD_WORDS_ES = {
    "waiting_on_resident": "En espera de información del residente",
    "other_agency": "En espera de otra agencia",
    "materials": "En espera de materiales",
    "weather": "En espera de buen tiempo",
    "other": "Otro motivo",
}

STATUS_WORDS_BY_LANGUAGE = {"en": STATUS_WORDS, "es": STATUS_WORDS_ES}
CLOSURE_WORDS_BY_LANGUAGE = {"en": CLOSURE_WORDS, "es": CLOSURE_WORDS_ES}
CLOSURE_EMAIL_WORDS_BY_LANGUAGE = {"en": CLOSURE_EMAIL_WORDS, "es": CLOSURE_EMAIL_WORDS_ES}
HOLD_WORDS_BY_LANGUAGE = {"en": HOLD_WORDS, "es": HOLD_WORDS_ES}
EVENT_WORDS_BY_LANGUAGE = {"en": EVENT_WORDS, "es": EVENT_WORDS_ES}
NOTIFY_WORDS_BY_LANGUAGE = {"en": NOTIFY_WORDS, "es": NOTIFY_WORDS_ES}
#: the closure notice of a reason without words of its own (a newer reason)
CLOSED_EMAIL_WORDS_BY_LANGUAGE = {
    "en": ("was closed", "Your request was closed."),
    "es": ("se cerró", "Su solicitud se cerró."),
}


def pick_language(*candidates: str | None, default: str = LANGUAGES[0]) -> str:
    """Return the first candidate that names a language we write in ("es-MX" is "es").

    Candidates are tags as clients send them (BCP 47 or POSIX: "es", "es-MX", "es_US").
    """
    for candidate in candidates:
        primary = (candidate or "").strip().replace("_", "-").split("-")[0].lower()
        if primary in LANGUAGES:
            return primary
    return default


def status_word(status: str, language: str = "en") -> str:
    """Return the words for a status, or the status itself when it has none."""
    return STATUS_WORDS_BY_LANGUAGE.get(language, STATUS_WORDS).get(status, status)


def closure_word(reason: str, language: str = "en") -> str:
    """Return the label of a closure reason, or the reason spelled out when it has none."""
    table = CLOSURE_WORDS_BY_LANGUAGE.get(language, CLOSURE_WORDS)
    return table.get(reason, reason.replace("_", " "))


def hold_word(reason: str, language: str = "en") -> str:
    """Return why a request is on hold, in a language; "other" for a reason without words."""
    table = HOLD_WORDS_BY_LANGUAGE.get(language, HOLD_WORDS)
    return table.get(reason) or table["other"]


def closure_email_words(reason: str, language: str = "en") -> tuple[str, str]:
    """Return (subject phrase, first line) of the closure notice for a reason, in a language."""
    table = CLOSURE_EMAIL_WORDS_BY_LANGUAGE.get(language, CLOSURE_EMAIL_WORDS)
    return table.get(reason) or CLOSED_EMAIL_WORDS_BY_LANGUAGE.get(
        language, CLOSED_EMAIL_WORDS_BY_LANGUAGE["en"]
    )


def resident_words(language: str) -> dict[str, dict[str, str]]:
    """Return the word tables of the resident pages in a language (English when unknown)."""
    return {
        "status": STATUS_WORDS_BY_LANGUAGE.get(language, STATUS_WORDS),
        "closure": CLOSURE_WORDS_BY_LANGUAGE.get(language, CLOSURE_WORDS),
        "event": EVENT_WORDS_BY_LANGUAGE.get(language, EVENT_WORDS),
        "hold": HOLD_WORDS_BY_LANGUAGE.get(language, HOLD_WORDS),
        "notify": NOTIFY_WORDS_BY_LANGUAGE.get(language, NOTIFY_WORDS),
    }


def words_context() -> dict[str, dict[str, str]]:
    """Return the word tables every request page renders with."""
    return {
        "status_words": STATUS_WORDS,
        "closure_words": CLOSURE_WORDS,
        "event_words": EVENT_WORDS,
        "hold_words": HOLD_WORDS,
        "notify_words": NOTIFY_WORDS,
        "language_names": LANGUAGE_NAMES,
    }

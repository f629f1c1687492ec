"""OpenAPI documentation helpers shared by every feature's JSON API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask_smorest import Blueprint

F = TypeVar("F", bound=Callable[..., Any])

#: the error answers of every endpoint that needs an admin's bearer token
ADMIN_ERRORS = ((401, "No bearer token."), (403, "Not an admin."))


def error_answers(blp: Blueprint, *answers: tuple[int, str]) -> Callable[[F], F]:
    """Document an endpoint's error answers (status, when) with the standard error body."""

    def decorator(func: F) -> F:
        for code, text in answers:
            func = blp.alt_response(code, response="DEFAULT_ERROR", description=text)(func)
        return func

    return decorator

"""OpenAPI documentation helpers shared by every feature's JSON API, and the answer of its
hot endpoints, documented by a schema but written without it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import flask_smorest
from flask import Response
from flask_smorest import Blueprint
from flask_smorest.pagination import PaginationParameters

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


#: the X-Pagination field that says `total` counts only the first matches (there are more)
TOTAL_IS_LOWER_BOUND = "total_is_lower_bound"


def total_is_lower_bound(page_params: PaginationParameters) -> None:
    """Say in the X-Pagination header that item_count is a lower bound: more items match.

    For lists too large to count at every request (a staff search by a common word): the
    header's total and last page are then how far the count went, and next_page is there
    while there are more.
    """
    page_params.total_is_lower_bound = True


class CountedBlueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint, whose X-Pagination can say that its total is a lower bound."""

    def _set_pagination_metadata(
        self, page_params: PaginationParameters, result: Any, headers: Any
    ) -> tuple[Any, Any]:
        result, headers = super()._set_pagination_metadata(page_params, result, headers)
        if getattr(page_params, "total_is_lower_bound", False):
            metadata = json.loads(headers[self.PAGINATION_HEADER_NAME])
            metadata[TOTAL_IS_LOWER_BOUND] = True
            headers[self.PAGINATION_HEADER_NAME] = json.dumps(metadata)
        return result, headers


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()  # as marshmallow's AwareDateTime writes it
    raise TypeError(f"{type(value).__name__} is not JSON: give the presenter's dict a str")


def json_answer(data: Any, status: int = 200) -> Response:
    """Answer `data`, a presenter's dicts shaped as the endpoint's schema, as JSON.

    For the endpoints on the hot path (intake, a department's queue, staff search): the
    schema stays in the endpoint's @blp.response for its documentation, but marshmallow's
    dump of what is already shaped cost a queue page of 50 requests 3.3 of its 4.2 ms of
    writing, and an intake POST 70 µs. tests/core/test_json_answer.py holds each such answer
    to its schema, so that the two cannot drift apart.
    """
    text = json.dumps(data, default=_iso, separators=(",", ":"))
    return Response(text, status=status, mimetype="application/json")

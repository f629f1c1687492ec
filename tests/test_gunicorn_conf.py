"""gunicorn.conf.py's access logger writes the lines gunicorn's own would.

Log shippers and the city's log parsers read the combined log format: the logger that makes
the line faster must not change a character of it.
"""

from __future__ import annotations

import logging
import runpy
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger

CONF = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))


class Response:
    def __init__(self, status: str, sent: int | None) -> None:
        self.status, self.sent = status, sent
        self.headers = [("Content-Type", "application/json")]


class Request:
    headers = [("HOST", "city.test"), ("CONTENT-TYPE", "application/json")]


def environ(**extra: str) -> dict[str, Any]:
    return {
        "REMOTE_ADDR": "203.0.113.9",
        "REQUEST_METHOD": "POST",
        "RAW_URI": "/open311/v2/requests.json?jurisdiction_id=city.test",
        "PATH_INFO": "/open311/v2/requests.json",
        "QUERY_STRING": "jurisdiction_id=city.test",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        **extra,
    }


def lines(logger_class: type[Logger], fmt: str | None, *calls: tuple[Any, ...]) -> list[str]:
    """Log `calls` through a logger of `logger_class` and return the lines written."""
    cfg = Config()
    cfg.set("accesslog", "-")
    if fmt is not None:
        cfg.set("access_log_format", fmt)
    logger = logger_class(cfg)
    written: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            written.append(self.format(record))

    handler = Keep()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.access_log.handlers = [handler]
    for resp, env in calls:
        logger.access(resp, Request, env, timedelta(milliseconds=3, microseconds=456))
    return written


CALLS = [
    (Response("200 OK", 412), environ(HTTP_USER_AGENT="city app/2.1")),
    (Response("201 CREATED", 0), environ(HTTP_REFERER="https://city.test/")),
    (Response("304 NOT MODIFIED", None), environ()),
    # quotes are escaped, as a log parser expects
    (
        Response("400 BAD REQUEST", 95),
        environ(HTTP_USER_AGENT='curl "quoted"', RAW_URI='/x?q="a"', HTTP_REFERER='"r"'),
    ),
    # a Basic user is named; a bearer token is not
    (Response("200 OK", 7), environ(HTTP_AUTHORIZATION="Basic YWdlbnQ6c2VjcmV0")),
    (Response("200 OK", 7), environ(HTTP_AUTHORIZATION="Bearer abc")),
    (Response("200 OK", 7), environ(HTTP_AUTHORIZATION="Basic !!!")),
]


def without_time(line: str) -> str:
    # the two loggers may write their lines in different seconds
    start, end = line.index(" ["), line.index("] ")
    return line[:start] + line[end + 1 :]


def test_the_config_uses_the_access_logger() -> None:
    assert CONF["logger_class"] is CONF["AccessLogger"]


def test_each_line_is_gunicorns_own() -> None:
    ours = lines(CONF["AccessLogger"], None, *CALLS)
    theirs = lines(Logger, None, *CALLS)
    assert len(ours) == len(CALLS)
    assert [without_time(line) for line in ours] == [without_time(line) for line in theirs]
    assert ours[0].startswith("203.0.113.9 - - [")
    assert ours[0].endswith(
        '"POST /open311/v2/requests.json?jurisdiction_id=city.test HTTP/1.1" 200 412 "-" '
        '"city app/2.1"'
    )
    assert ' 201 0 "https://city.test/"' in ours[1]
    assert ' 304 - "-"' in ours[2]
    assert '"curl \\"quoted\\""' in ours[3]
    assert ours[4].startswith("203.0.113.9 - agent [")


def test_the_time_is_gunicorns_format() -> None:
    (ours,) = lines(CONF["AccessLogger"], None, CALLS[0])
    (theirs,) = lines(Logger, None, CALLS[0])
    stamps = [
        datetime.strptime(line[line.index(" [") + 2 : line.index("] ")], "%d/%b/%Y:%H:%M:%S %z")
        for line in (ours, theirs)
    ]
    assert abs(stamps[0] - stamps[1]) <= timedelta(seconds=1)


@pytest.mark.parametrize("fmt", ['%(h)s %(m)s %(U)s %(s)s %(M)s "%({x-request-id}i)s"'])
def test_another_format_is_gunicorns_way(fmt: str) -> None:
    ours = lines(CONF["AccessLogger"], fmt, *CALLS)
    assert ours == lines(Logger, fmt, *CALLS)
    assert ours[0] == '203.0.113.9 POST /open311/v2/requests.json 200 3 "-"'


def test_no_access_log_writes_nothing() -> None:
    cfg = Config()
    logger = CONF["AccessLogger"](cfg)
    written: list[logging.LogRecord] = []
    logger.access_log.handle = written.append  # type: ignore[method-assign]
    logger.access(CALLS[0][0], Request, CALLS[0][1], timedelta(0))
    assert written == []

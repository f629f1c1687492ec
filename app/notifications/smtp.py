"""One SMTP connection kept open across a drain's messages, or written to disk in development.

Opening a connection (TCP, the greeting, EHLO, STARTTLS, AUTH) and saying QUIT cost more
round trips than the message itself, so a drain sends all its messages over one connection:
MAIL, RCPT and DATA per message. A connection that has failed in any way is dropped, and the
next message opens a fresh one; one the server has closed since (its FIN, or a 421, is
waiting on the socket: seen without a round trip) is opened again, and one that sat idle a
while is checked with NOOP before use. A message is never sent again on a new connection by this
module: a failure goes back to the caller, which records it and retries later, so a message
the server may have taken is repeated only as the outbox's retry would repeat it.
"""

from __future__ import annotations

import io
import logging
import os
import select
import smtplib
import ssl
import time
from email.generator import BytesGenerator
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType

from flask import current_app

from app.core.clock import utcnow

log = logging.getLogger(__name__)

#: a connection idle longer than this is checked with NOOP before the next message
IDLE_CHECK_SECONDS = 5.0


class PermanentFailure(Exception):
    """The mail server refused this message for good (unknown mailbox, …): do not retry."""


class Sender:
    """Send messages over one SMTP connection, opened at the first message; `close()` QUITs.

    With no SMTP_HOST configured (the development default) nothing is sent: each message is
    written as an .eml file into MAIL_OUTBOX_DIR, and its path is returned.
    """

    def __init__(self) -> None:
        config = current_app.config
        self.host: str | None = config.get("SMTP_HOST") or None
        self.port = int(config["SMTP_PORT"])
        self.timeout = float(config["SMTP_TIMEOUT"])
        self.starttls = bool(config.get("SMTP_STARTTLS"))
        self.username: str | None = config.get("SMTP_USERNAME") or None
        self.password: str = config.get("SMTP_PASSWORD") or ""
        self.eml_dir = Path(config["MAIL_OUTBOX_DIR"])
        self._smtp: smtplib.SMTP | None = None
        self._used_at = 0.0
        #: the last message the open connection delivered, for the log; its Message-ID is
        #: read only when logged, since reading a header parses it (unique: never cached)
        self._last: EmailMessage | None = None

    def __enter__(self) -> Sender:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def send(self, msg: EmailMessage, envelope: tuple[str, list[str]] | None = None) -> str:
        """Send one message; return where it went.

        `envelope` is (sender, recipients) as the message's own From and To say them; with
        it, nothing is parsed back out of the headers (smtplib.send_message would).

        :raises PermanentFailure: the server refused every recipient with a 5xx reply.
        :raises smtplib.SMTPException, OSError: the server is unreachable or failed; retry later.
        """
        if self.host is None:
            return str(_write_eml(msg, self.eml_dir))
        smtp = self._connection()
        try:
            if envelope is not None and _ascii(envelope):
                out = io.BytesIO()
                BytesGenerator(out).flatten(msg, linesep="\r\n")
                smtp.sendmail(envelope[0], envelope[1], out.getvalue())
            else:  # international addresses: smtplib asks for SMTPUTF8
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            self._drop()
            codes = [code for code, _ in exc.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise PermanentFailure(f"recipient refused: {exc.recipients}") from exc
            raise
        except BaseException:
            # half a transaction may be open on the server: start clean next time
            self._drop()
            raise
        self._used_at, self._last = time.monotonic(), msg
        return f"smtp://{self.host}:{self.port}"

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None and _hung_up(self._smtp):
            # the server closed it after the last message (a per-connection cap, a restart)
            self._drop()
        if self._smtp is not None and time.monotonic() - self._used_at > IDLE_CHECK_SECONDS:
            try:
                code, _ = self._smtp.noop()
            except (smtplib.SMTPException, OSError):
                code = 0
            if code != 250:
                self._drop()
        if self._smtp is None:
            assert self.host is not None
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            try:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password)
            except BaseException:
                smtp.close()
                raise
            self._smtp, self._last = smtp, None
        return self._smtp

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None

    def close(self) -> None:
        """Say goodbye; the messages already taken count as sent whatever QUIT answers."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        # The server has taken the messages: a failed goodbye must not make the caller send
        # them again, so it is logged and otherwise ignored.
        try:
            code, reply = smtp.quit()
        except (smtplib.SMTPException, OSError) as exc:
            log.warning("SMTP QUIT failed after %s was accepted: %s", self._last_id(), exc)
        else:
            if code != 221:
                log.warning(
                    "SMTP QUIT answered %s %s after %s was accepted",
                    code,
                    reply.decode(errors="replace"),
                    self._last_id(),
                )
        finally:
            smtp.close()

    def _last_id(self) -> str | None:
        return None if self._last is None else str(self._last["Message-ID"])


def _hung_up(smtp: smtplib.SMTP) -> bool:
    """Tell, without a round trip, whether the server has closed the connection (or sent an
    unasked reply such as 421 before closing it): between messages it must be silent."""
    sock = smtp.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _ascii(envelope: tuple[str, list[str]]) -> bool:
    return all(address.isascii() for address in (envelope[0], *envelope[1]))


def _write_eml(msg: EmailMessage, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%fZ")
    path = directory / f"{stamp}-outbox-{msg['X-City311-Outbox']}.eml"
    tmp = path.with_suffix(".part")
    tmp.write_bytes(msg.as_bytes())
    os.replace(tmp, path)
    log.info("SMTP_HOST is not set: wrote %s to %s", msg["Subject"], path)
    return path

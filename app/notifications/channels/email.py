"""Email over SMTP: multipart/alternative (plain text + HTML) plus attachments, one connection per tick.

Messages are built with the standard library's MIME classes under the ``compat32`` policy and flattened to
bytes once: the newer ``EmailMessage`` API parses and refolds every header it is given, which cost more than the
whole SMTP conversation with a local server (bench/README.md, issue 25). What the receiver sees is the same:
UTF-8 subject and display names as encoded words, base64 UTF-8 bodies, the calendar file as an attachment.
"""

from __future__ import annotations

import contextlib
import secrets
import smtplib
import ssl
from email import policy
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from typing import Any

from . import DeliveryError, Envelope

_WIRE = policy.compat32.clone(linesep="\r\n")


def _address(value: str) -> str:
    """``value`` ("职工之家 <noreply@zhijia.local>" or a bare address) with its display name as an encoded word."""
    name, address = parseaddr(value)
    return formataddr((name, address), charset="utf-8") if name else address


def _part(text: str, subtype: str) -> MIMEText:
    """A UTF-8, base64 text part (MIME-Version belongs to the message, not to its parts)."""
    part = MIMEText(text, subtype, "utf-8")
    del part["MIME-Version"]
    return part


def build_email(envelope: Envelope, sender: str) -> bytes:
    """The message for ``envelope``, ready for the wire. Its Message-ID is derived from the outbox row, so a resend
    after a crash carries the same id and a receiving system can recognise the duplicate."""
    rendered = envelope.rendered
    # Every part is base64, whose alphabet has no "_": a boundary holding one never occurs in a body, so the
    # generator need not search the message for a free one.
    boundary = f"=_zhijia_{secrets.token_hex(8)}"
    body = MIMEMultipart("alternative", boundary=f"{boundary}_a")
    body.attach(_part(rendered.text, "plain"))
    body.attach(_part(rendered.html, "html"))
    mail = body
    if rendered.attachments:
        mail = MIMEMultipart("mixed", boundary=f"{boundary}_m")
        del body["MIME-Version"]
        mail.attach(body)
        for attachment in rendered.attachments:
            part = _part(attachment.content, attachment.mimetype.split("/", 1)[1])  # text files (.ics)
            if attachment.mimetype == "text/calendar":
                part.set_param("method", "PUBLISH")
            part.add_header("Content-Disposition", "attachment", filename=attachment.filename)
            mail.attach(part)
    # A Header object (not its encoded string) lets the generator fold long subjects between encoded words.
    mail["Subject"] = Header(rendered.subject, "utf-8")  # type: ignore[assignment]
    mail["From"] = _address(sender)
    mail["To"] = envelope.email or ""
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = envelope.message_id
    mail["X-Zhijia-Kind"] = envelope.kind
    mail["Auto-Submitted"] = "auto-generated"
    return mail.as_bytes(policy=_WIRE)


def message_id_for(outbox_id: int, host: str) -> str:
    return f"<outbox-{outbox_id}@{host}>"


class EmailChannel:
    name = "email"

    def __init__(self, config: dict[str, Any]) -> None:
        self.server = config["MAIL_SERVER"]
        self.port = int(config["MAIL_PORT"])
        self.username = config.get("MAIL_USERNAME")
        self.password = config.get("MAIL_PASSWORD")
        self.use_tls = bool(config.get("MAIL_USE_TLS"))
        self.use_ssl = bool(config.get("MAIL_USE_SSL"))
        self.timeout = float(config.get("MAIL_TIMEOUT", 10))
        self.sender = config["MAIL_DEFAULT_SENDER"]
        self._smtp: smtplib.SMTP | None = None

    def open(self) -> None:
        """Connections are opened lazily by the first ``send`` of a tick."""

    def _connect(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        try:
            if self.use_ssl:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.server, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(self.server, self.port, timeout=self.timeout)
                if self.use_tls:
                    smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"SMTP connect: {type(error).__name__}: {error}"[:500]) from error
        self._smtp = smtp
        return smtp

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            with contextlib.suppress(OSError):
                smtp.close()

    def encode(self, envelope: Envelope) -> bytes:
        """The message's bytes for the wire (``build_email``)."""
        if not envelope.email:
            raise DeliveryError("no email address")
        try:
            return build_email(envelope, self.sender)
        except UnicodeError as error:  # an address this server cannot take (not ASCII, no SMTPUTF8)
            raise DeliveryError(f"cannot encode the message: {error}"[:500]) from error

    def send(self, envelope: Envelope) -> None:
        self.transmit(envelope, self.encode(envelope))

    def transmit(self, envelope: Envelope, encoded: bytes) -> None:
        """One SMTP transaction on the tick's connection; a connection the server closed since the last message is
        reopened once."""
        sender = parseaddr(self.sender)[1]
        for attempt in (1, 2):
            smtp = self._connect()
            try:
                smtp.sendmail(sender, [envelope.email or ""], encoded)
                return
            except smtplib.SMTPServerDisconnected as error:
                self._drop()
                if attempt == 2:
                    raise DeliveryError(f"SMTP disconnected: {error}"[:500]) from error
            except smtplib.SMTPResponseException as error:
                self._reset()
                raise DeliveryError(f"SMTP {error.smtp_code}: {error.smtp_error!r}"[:500]) from error
            except UnicodeError as error:
                self._reset()
                raise DeliveryError(f"cannot encode the address: {error}"[:500]) from error
            except smtplib.SMTPRecipientsRefused as error:
                self._reset()
                codes = ", ".join(str(code) for code, _ in error.recipients.values())
                raise DeliveryError(f"SMTP recipient refused: {codes}"[:500]) from error
            except (OSError, smtplib.SMTPException) as error:
                self._drop()
                raise DeliveryError(f"SMTP: {type(error).__name__}: {error}"[:500]) from error

    def _reset(self) -> None:
        if self._smtp is None:
            return
        try:
            self._smtp.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()


__all__ = ["EmailChannel", "build_email", "make_msgid", "message_id_for"]

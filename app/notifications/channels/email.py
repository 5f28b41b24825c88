"""Email over SMTP: multipart/alternative (plain text + HTML) plus attachments, one connection per tick."""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from . import DeliveryError, Envelope


def build_email(envelope: Envelope, sender: str) -> EmailMessage:
    """The MIME message for ``envelope``. Its Message-ID is derived from the outbox row, so a resend after a
    crash carries the same id and a receiving system can recognise the duplicate."""
    rendered = envelope.rendered
    mail = EmailMessage()
    mail["Subject"] = rendered.subject
    mail["From"] = sender
    mail["To"] = envelope.email or ""
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = envelope.message_id
    mail["X-Zhijia-Kind"] = envelope.kind
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(rendered.text, charset="utf-8")
    mail.add_alternative(rendered.html, subtype="html", charset="utf-8")
    for attachment in rendered.attachments:
        maintype, subtype = attachment.mimetype.split("/", 1)
        params = {"method": "PUBLISH"} if attachment.mimetype == "text/calendar" else {}
        mail.add_attachment(
            attachment.content.encode("utf-8"),
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
            params=params,
        )
    return mail


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

    def send(self, envelope: Envelope) -> None:
        if not envelope.email:
            raise DeliveryError("no email address")
        mail = build_email(envelope, self.sender)
        for attempt in (1, 2):  # a connection the server closed since the last message is reopened once
            smtp = self._connect()
            try:
                smtp.send_message(mail, to_addrs=[envelope.email])
                return
            except smtplib.SMTPServerDisconnected as error:
                self._drop()
                if attempt == 2:
                    raise DeliveryError(f"SMTP disconnected: {error}"[:500]) from error
            except smtplib.SMTPResponseException as error:
                self._reset()
                raise DeliveryError(f"SMTP {error.smtp_code}: {error.smtp_error!r}"[:500]) from error
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

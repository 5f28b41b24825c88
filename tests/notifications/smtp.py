"""A real local SMTP server (aiosmtpd) for delivery tests: it collects what it receives, or refuses on demand."""

from __future__ import annotations

import email
import socket
import threading
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Collector:
    """aiosmtpd handler: keeps every accepted message; ``refuse`` (e.g. "451 try later") refuses DATA instead.

    Like a real mail server it only stores what it accepts; messages are parsed when a test reads them, so the
    server's own cost per message stays small (bench/delivery.py measures the sender, not this parser)."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []
        self.refuse: str | None = None
        self.refused = 0
        self.refuse_recipients: set[str] = set()  # answered "550" at RCPT
        self.connections = 0  # greetings (EHLO/HELO) seen: one per SMTP connection
        self._parsed: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        with self._lock:
            self.connections += 1
        return responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address in self.refuse_recipients:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            with self._lock:
                self.refused += 1
            return self.refuse
        with self._lock:
            self.raw.append(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        """Every accepted message, parsed, in order of arrival."""
        with self._lock:
            for content in self.raw[len(self._parsed) :]:
                self._parsed.append(email.message_from_bytes(content, policy=policy.default))  # type: ignore[arg-type]
            return list(self._parsed)

    def clear(self) -> None:
        with self._lock:
            self.raw.clear()
            self._parsed.clear()

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if str(m["To"]) == address]


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.handler = Collector()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


@pytest.fixture
def smtp(app: Flask) -> Iterator[Collector]:
    """Start an SMTP server on a free port and point the app's mail settings at it for this test."""
    server = SmtpServer(free_port())
    server.start()
    previous = app.config["MAIL_PORT"], app.config["MAIL_SERVER"]
    app.config["MAIL_PORT"], app.config["MAIL_SERVER"] = server.port, "127.0.0.1"
    try:
        yield server.handler
    finally:
        app.config["MAIL_PORT"], app.config["MAIL_SERVER"] = previous
        server.stop()


@pytest.fixture
def smtp_down(app: Flask) -> Iterator[int]:
    """Mail settings pointing at a port where nothing listens."""
    port = free_port()
    previous = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = port
    try:
        yield port
    finally:
        app.config["MAIL_PORT"] = previous

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
    """aiosmtpd handler: keeps every accepted message; ``refuse`` (e.g. "451 try later") refuses DATA instead."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: str | None = None
        self.refused = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            with self._lock:
                self.refused += 1
            return self.refuse
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def subjects(self) -> list[str]:
        with self._lock:
            return [str(m["Subject"]) for m in self.messages]

    def message_ids(self) -> list[str]:
        with self._lock:
            return [str(m["Message-ID"]) for m in self.messages]

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
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

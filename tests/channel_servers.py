"""Real servers for channel tests: an SMTP server (aiosmtpd) and an HTTP server (http.server).

Both answer in the caller's time: when a channel's ``send`` returns, the server has recorded the
message or request (aiosmtpd runs ``handle_DATA`` before it answers DATA; the HTTP handler
records the request before it answers), so tests never wait or sleep.

    async with smtp_server() as smtp:           # smtp.port, smtp.messages, smtp.envelopes
        smtp.rcpt_reply = "550 5.1.1 no such user"

    with webhook_server(status=200) as hook:    # hook.url, hook.requests
        hook.status = 500                       # for the requests from now on
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

# --- SMTP ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedEnvelope:
    mail_from: str
    rcpt_tos: tuple[str, ...]


@dataclass
class SmtpServer:
    """What the test sees of the SMTP server. Set ``rcpt_reply`` or ``data_reply`` to an SMTP
    reply such as ``"550 5.1.1 no such user"`` to refuse recipients or messages from then on;
    ``None`` accepts."""

    host: str = "127.0.0.1"
    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[ReceivedEnvelope] = field(default_factory=list)
    rcpt_reply: str | None = None
    data_reply: str | None = None


class _Handler:
    def __init__(self, state: SmtpServer) -> None:
        self.state = state

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.state.rcpt_reply is not None:
            return self.state.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.state.data_reply is not None:
            return self.state.data_reply
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode()
        raw = raw.replace(b"\r\n", b"\n")  # wire form to the form a mailbox stores
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.state.envelopes.append(
            ReceivedEnvelope(str(envelope.mail_from), tuple(envelope.rcpt_tos))
        )
        self.state.messages.append(message)
        return "250 Message accepted for delivery"


class _FreePortController(Controller):
    """Binds port 0 and learns the port the system chose (aiosmtpd 1.4 needs a fixed port)."""

    def _trigger_server(self) -> None:
        server = self.server
        assert isinstance(server, asyncio.Server)
        self.port = server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


@asynccontextmanager
async def smtp_server(
    *, rcpt_reply: str | None = None, data_reply: str | None = None
) -> AsyncIterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 and a free port, for the duration of the block."""
    state = SmtpServer(rcpt_reply=rcpt_reply, data_reply=data_reply)
    controller = _FreePortController(
        _Handler(state),
        hostname=state.host,
        port=0,
        server_hostname="smtp.kenett-test.localhost",
        enable_SMTPUTF8=True,
    )
    await asyncio.to_thread(controller.start)
    state.port = controller.port
    try:
        yield state
    finally:
        await asyncio.to_thread(controller.stop)


def free_port() -> int:
    """A port nothing listens on (at the moment of asking)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- HTTP ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: httpx.Headers
    """All request headers; look-ups ignore case."""
    body: bytes


@dataclass
class WebhookServer:
    """What the test sees of the HTTP server. ``status`` (and ``location`` for a redirect) is
    the answer to every request from now on."""

    url: str = ""
    status: int = 200
    location: str | None = None
    requests: list[ReceivedRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def _handler_for(state: WebhookServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = ReceivedRequest(
                method=self.command,
                path=self.path,
                headers=httpx.Headers(list(self.headers.items())),
                body=body,
            )
            with state._lock:
                state.requests.append(request)
                status, location = state.status, state.location
            self.send_response(status)
            if location is not None:
                self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass  # no request lines on stderr

    return Handler


@contextmanager
def webhook_server(status: int = 200, *, location: str | None = None) -> Iterator[WebhookServer]:
    """A real HTTP server on 127.0.0.1 and a free port, in a thread, for the block."""
    state = WebhookServer(status=status, location=location)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(state))
    server.daemon_threads = True
    host, port = server.server_address[:2]
    state.url = f"http://{host!s}:{port}/hook"
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.02},
        name="webhook-server",
        daemon=True,
    )
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

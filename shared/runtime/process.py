"""Child processes that announce readiness on their output: wait for the line, not for time."""

from __future__ import annotations

import os
import selectors
import subprocess
import threading
import time
from pathlib import Path
from typing import IO


class ProcessNotReady(RuntimeError):
    """The child exited or stayed silent; the message has the tail of its output."""


def await_output(
    proc: subprocess.Popen[bytes], stream: IO[bytes], marker: bytes, timeout: float
) -> bytes:
    """Read ``stream`` until ``marker`` appears; returns everything read so far.

    Reads the raw descriptor: a buffered readline could keep the marker in Python's buffer
    while select() waits on an empty pipe.
    """
    fd = stream.fileno()
    deadline = time.monotonic() + timeout
    data = b""
    sel = selectors.DefaultSelector()
    sel.register(fd, selectors.EVENT_READ)
    try:
        while marker not in data:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ProcessNotReady(f"not ready in {timeout:.0f}s: {_tail(data)}")
            if not sel.select(remaining):
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                code = proc.wait()
                raise ProcessNotReady(f"exited with code {code}: {_tail(data)}")
            data += chunk
    finally:
        sel.close()
    return data


def drain_to(stream: IO[bytes], sink_path: Path | None, already: bytes = b"") -> threading.Thread:
    """Keep reading the child's output (so its pipe never fills), appending it to a file."""

    def run() -> None:
        sink = open(sink_path, "ab") if sink_path else None  # noqa: SIM115
        try:
            if sink and already:
                sink.write(already)
            fd = stream.fileno()
            while chunk := os.read(fd, 65536):
                if sink:
                    sink.write(chunk)
                    sink.flush()
        finally:
            if sink:
                sink.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _tail(data: bytes) -> str:
    return " | ".join(data.decode(errors="replace").strip().splitlines()[-4:])

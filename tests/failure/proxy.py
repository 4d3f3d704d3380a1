"""A TCP proxy the test can cut: a database (or anything) that goes away and comes back."""

from __future__ import annotations

import asyncio
import contextlib

from shared.runtime.natsserver import free_port


class TcpProxy:
    """Forwards ``127.0.0.1:port`` to ``upstream``. ``cut()`` refuses new connections and breaks
    the open ones (like a database server that is gone); ``restore()`` accepts again, on the
    same port."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._transports: set[asyncio.BaseTransport] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def is_open(self) -> bool:
        return self._server is not None

    async def restore(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def cut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for transport in list(self._transports):
            transport.abort()  # a reset, not a polite close: the peer learns it mid-statement
        self._transports.clear()
        if server is not None:
            await server.wait_closed()

    async def aclose(self) -> None:
        await self.cut()  # the pipes end by themselves once their transports are aborted
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            try:
                up_reader, up_writer = await asyncio.open_connection(*self.upstream)
            except OSError:
                writer.transport.abort()
                return
            if self._server is None:  # cut while connecting upstream
                up_writer.transport.abort()
                writer.transport.abort()
                return
            self.connections += 1
            ends = (writer.transport, up_writer.transport)
            self._transports.update(ends)
            try:
                await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
            finally:
                self._transports.difference_update(ends)
        finally:
            self._tasks.discard(task)

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            sink.transport.abort()

"""asyncio streams over minternet TCP: ``open_connection`` and ``start_server`` shaped like
asyncio's own, built from asyncio's StreamReader, StreamReaderProtocol and StreamWriter over a
Transport that speaks to a TCP connection. Flow control is real: while the application does not
read, the receive buffer fills and the advertised window closes."""

from __future__ import annotations

import asyncio
import errno
from asyncio import protocols
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from ..transport.tcp.connection import Events, Options, State, TCPConnection
from .common import os_error

if TYPE_CHECKING:
    from ..host import Host
    from ..transport.tcp.layer import Listener

HIGH_WATER = 64 * 1024
LOW_WATER = 16 * 1024


class TCPTransport(asyncio.Transport, Events):
    """asyncio.Transport for one minternet TCP connection. ``StreamWriter.start_tls`` (asyncio's
    SSLProtocol, a BufferedProtocol) can wrap it: that is how HTTPS runs on minternet's TCP."""

    _start_tls_compatible = True  # loop.start_tls may wrap it (base_events.start_tls checks this)

    def __init__(self, conn: TCPConnection, protocol: asyncio.Protocol, loop: asyncio.AbstractEventLoop) -> None:
        asyncio.Transport.__init__(self, {"peername": conn.remote, "sockname": conn.local})
        self._conn = conn
        self._protocol = protocol
        self._loop = loop
        self._pending = bytearray()  # written by the application, not yet in the send buffer
        self._closing = False
        self._eof_wanted = False  # a FIN after the pending data (write_eof() or close())
        self._eof_written = False  # write_eof() was called: write() is an error from now on
        self._paused_reading = False
        self._writing_paused = False
        self._eof_delivered = False
        self._lost = False
        self._high, self._low = HIGH_WATER, LOW_WATER
        conn.events = self

    # -- connection events ------------------------------------------------------------------------
    def readable(self) -> None:
        if self._paused_reading or self._lost:
            return
        data = self._conn.read()
        if data:
            if isinstance(self._protocol, asyncio.BufferedProtocol):
                protocols._feed_data_to_buffered_proto(self._protocol, data)
            else:
                self._protocol.data_received(data)
        if self._conn.eof and not self._eof_delivered and not self._conn.readable_bytes:
            self._eof_delivered = True
            keep_open = self._protocol.eof_received()
            if not keep_open:
                self.close()

    def writable(self) -> None:
        self._flush()

    def closed(self, error: int) -> None:
        if self._lost:
            return
        if error and not self._closing:
            self._connection_lost(os_error(error))
        elif not self._closing:
            # Closed by the peer's reset after our shutdown, or cleanly: let readers see EOF first.
            self.readable()
            self._connection_lost(None)

    # -- Transport API --------------------------------------------------------------------------------
    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "tcp":
            return self._conn
        if name == "peername":  # as asyncio's transports give them
            return tuple(self._conn.remote)
        if name == "sockname":
            return tuple(self._conn.local)
        return super().get_extra_info(name, default)

    def is_closing(self) -> bool:
        return self._closing

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._protocol = protocol  # type: ignore[assignment]

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._eof_written:
            raise RuntimeError("Cannot call write() after write_eof()")
        if self._lost or self._conn.state is State.CLOSED:
            return  # like asyncio: writes after the connection is lost (or closed) are dropped
        if not data:
            return
        self._pending += data
        self._flush()
        self._maybe_pause()

    def writelines(self, list_of_data) -> None:  # noqa: ANN001
        for data in list_of_data:
            self.write(data)

    def write_eof(self) -> None:
        self._eof_written = self._eof_wanted = True
        self._flush()

    def can_write_eof(self) -> bool:
        return True

    def get_write_buffer_size(self) -> int:
        return len(self._pending)

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._high = HIGH_WATER if high is None else high
        self._low = (self._high // 4) if low is None else low

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._low, self._high

    def pause_reading(self) -> None:
        self._paused_reading = True

    def resume_reading(self) -> None:
        if self._paused_reading:
            self._paused_reading = False
            self._loop.call_soon(self.readable)

    def is_reading(self) -> bool:
        return not self._paused_reading

    def close(self) -> None:
        """Send what is buffered, then a FIN; the protocol's connection_lost follows."""
        if self._closing:
            return
        self._closing = True
        self._eof_wanted = True
        self._flush()

    def abort(self) -> None:
        self._closing = True
        if self._conn.state is not State.CLOSED:
            self._conn.abort()
        self._connection_lost(None)

    def _force_close(self, exc: BaseException | None) -> None:
        # asyncio's private transport API: sslproto calls it on a fatal TLS error.
        if self._lost:
            return
        self._closing = True
        self._pending.clear()
        if self._conn.state is not State.CLOSED:
            self._drop_connection()
        self._connection_lost(exc)  # type: ignore[arg-type]

    def _drop_connection(self) -> None:
        """How a forced close ends the TCP connection: a RST."""
        self._conn.abort()

    # -- internals ----------------------------------------------------------------------------------
    def _flush(self) -> None:
        conn = self._conn
        if self._pending and conn.state is not State.CLOSED:
            free = conn.sendbuf.free
            if not free:
                return
            try:
                # Only what fits: copying the whole backlog on every ACK would cost more than TCP.
                n = conn.write(bytes(memoryview(self._pending)[:free]))
            except OSError as exc:
                self._pending.clear()
                self._connection_lost(os_error(exc.errno or errno.EPIPE))
                return
            del self._pending[:n]
        if self._writing_paused and len(self._pending) <= self._low:
            self._writing_paused = False
            self._protocol.resume_writing()
        if self._eof_wanted and not self._pending and conn.state is not State.CLOSED:
            if self._closing:
                conn.close()  # the transport is gone: an orphan, as a closed socket
                self._connection_lost(None)
            else:
                conn.shutdown_write()  # write_eof(): a half close

    def _maybe_pause(self) -> None:
        if not self._writing_paused and len(self._pending) > self._high:
            self._writing_paused = True
            self._protocol.pause_writing()

    def _connection_lost(self, exc: Exception | None) -> None:
        if self._lost:
            return
        self._lost = True
        self._loop.call_soon(self._protocol.connection_lost, exc)


async def _established(conn: TCPConnection, timeout: float | None) -> None:
    """Wait for the handshake of an active open."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    class Wait(Events):
        def established(self) -> None:
            if not done.done():
                done.set_result(None)

        def closed(self, error: int) -> None:
            if not done.done():
                done.set_exception(os_error(error or errno.ECONNREFUSED))

    conn.events = Wait()
    if timeout is None:
        await done
    else:
        try:
            await asyncio.wait_for(done, timeout)
        except asyncio.TimeoutError:
            conn.abort()
            raise os_error(errno.ETIMEDOUT, "timed out (connect)") from None


async def open_connection(host: "Host", name: str, port: int, limit: int = 2 ** 16,
                          options: Options | None = None, timeout: float | None = None,
                          local_addr: tuple[str, int] | None = None):
    """Like ``asyncio.open_connection``: resolve ``name`` (through the host's DNS), connect, and
    return (StreamReader, StreamWriter)."""
    loop = asyncio.get_running_loop()
    address = await host.resolve(name)
    conn = host.tcp.connect((address, port), local_addr, options)
    await _established(conn, timeout)
    reader = asyncio.StreamReader(limit=limit, loop=loop)
    protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
    transport = TCPTransport(conn, protocol, loop)
    protocol.connection_made(transport)
    writer = asyncio.StreamWriter(transport, protocol, reader, loop)
    if conn.readable_bytes or conn.eof:
        transport.readable()  # data that came with or right after the handshake
    return reader, writer


class Server:
    """What ``start_server`` and ``create_server`` return, shaped like asyncio.Server."""

    def __init__(self, host: "Host", listener: "Listener", handler: Callable[..., Any] | None, limit: int,
                 protocol_factory: Callable[[], asyncio.Protocol] | None = None) -> None:
        self.host = host
        self._listener = listener
        self._handler = handler
        self._protocol_factory = protocol_factory
        self._limit = limit
        self._serving = asyncio.get_running_loop().create_future()
        self._closed = False
        self.connections_accepted = 0
        listener.on_acceptable = self._accept_all

    @property
    def sockets(self) -> list[tuple[str, int]]:
        return [(self._listener.addr, self._listener.port)]

    def _accept_all(self) -> None:
        loop = asyncio.get_running_loop()
        q = self._listener.accept_queue
        while q:
            conn = q.popleft()
            if conn.state is State.CLOSED:
                continue
            self.connections_accepted += 1
            if self._protocol_factory is not None:
                protocol = self._protocol_factory()
            else:
                reader = asyncio.StreamReader(limit=self._limit, loop=loop)
                protocol = asyncio.StreamReaderProtocol(reader, self._handler, loop=loop)
            transport = TCPTransport(conn, protocol, loop)
            if self._protocol_factory is None:
                # As asyncio's socket transports (they add their reader with call_soon): no data
                # for the stream before the loop's next iteration, when the handler has had its
                # first step. A handler that starts TLS at once (HTTPS) would otherwise lose a
                # ClientHello that came in the same batch as the handshake's last ACK (a TAP
                # driver's read) to the StreamReader, where start_tls's SSL protocol never sees it.
                transport.pause_reading()
            protocol.connection_made(transport)  # schedules the handler's task (call_soon)
            if self._protocol_factory is None:
                loop.call_soon(transport.resume_reading)
            if conn.readable_bytes or conn.eof:
                loop.call_soon(transport.readable)

    def is_serving(self) -> bool:
        return not self._closed

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._listener.close()
            if not self._serving.done():
                self._serving.set_result(None)

    async def wait_closed(self) -> None:
        await asyncio.shield(self._serving) if not self._serving.done() else None

    async def serve_forever(self) -> None:
        await self._serving

    async def start_serving(self) -> None:
        return None

    async def __aenter__(self) -> "Server":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
        await self.wait_closed()


def _reusing(host: "Host", options: Options | None) -> Options:
    """asyncio's servers set SO_REUSEADDR on POSIX (create_server's reuse_address default), so a
    restarted server binds over its old connections in TIME-WAIT."""
    opts = (options or host.tcp.defaults).copy()
    opts.reuseaddr = True
    return opts


async def start_server(host: "Host", client_connected_cb: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None] | None],
                       port: int, address: str = "0.0.0.0", backlog: int = 100, limit: int = 2 ** 16,
                       options: Options | None = None) -> Server:
    """Like ``asyncio.start_server`` on a minternet host."""
    listener = host.tcp.listen(address, port, backlog, _reusing(host, options))
    return Server(host, listener, client_connected_cb, limit)


async def create_server(host: "Host", protocol_factory: Callable[[], asyncio.Protocol], port: int,
                        address: str = "0.0.0.0", backlog: int = 100, options: Options | None = None) -> Server:
    """Like ``loop.create_server``: each accepted connection gets a protocol from the factory,
    called straight from the TCP stack (no task per chunk of data)."""
    listener = host.tcp.listen(address, port, backlog, _reusing(host, options))
    return Server(host, listener, None, 0, protocol_factory)

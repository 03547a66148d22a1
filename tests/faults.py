"""Faults a production database inflicts on a worker, made on demand for the tests:
a PostgreSQL database of a test's own whose connections can be killed, and a
TCP proxy to the server that can stop forwarding, as a frozen server would."""

from __future__ import annotations

import contextlib
import secrets
import socket
import threading
from collections.abc import Iterator

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from .postgres_db import DATABASE, server_dsn


@contextlib.contextmanager
def own_database() -> Iterator[str]:
    """A new, empty PostgreSQL database; its DSN; dropped (connections and all) after."""
    DATABASE.dsn()  # skips, or fails in CI, where no server answers
    name = f"pyworkflow_fault_{secrets.token_hex(4)}"
    with psycopg.connect(server_dsn(), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield server_dsn(name)
    finally:
        with psycopg.connect(server_dsn(), autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def with_application_name(dsn: str, name: str) -> str:
    """``dsn`` whose connections show as ``name`` in pg_stat_activity, to be killed by it."""
    return make_conninfo(dsn, application_name=name)


def terminate_connections(dsn: str, application_name: str) -> int:
    """Kill, as an administrator would, every connection ``application_name`` holds
    to the database of ``dsn``; how many were killed."""
    database = conninfo_to_dict(dsn)["dbname"]
    with psycopg.connect(server_dsn(), autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND application_name = %s AND pid <> pg_backend_pid()",
            (database, application_name),
        ).fetchall()
    return sum(1 for (killed,) in rows if killed)


class StallingProxy:
    """Forwards 127.0.0.1:<port> to the PostgreSQL server; ``stall()`` makes it stop
    passing bytes either way while keeping every connection open (the kernel still
    acknowledges, as for a server that was stopped); ``resume()`` lets them flow."""

    def __init__(self, target_host: str = "127.0.0.1", target_port: int = 5432) -> None:
        self._target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._flowing = threading.Event()
        self._flowing.set()
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True, name="proxy-accept").start()

    def dsn(self, dsn: str) -> str:
        return make_conninfo(dsn, host="127.0.0.1", port=str(self.port))

    def stall(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self._target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(
                    target=self._pump, args=(source, sink), daemon=True, name="proxy-pump"
                ).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while not self._closed.is_set():
                self._flowing.wait()
                source.settimeout(0.1)
                try:
                    data = source.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    break
                # Bytes read just before a stall are held back too.
                self._flowing.wait()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for each in (source, sink):
                with contextlib.suppress(OSError):
                    each.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._closed.set()
        self._flowing.set()
        self._listener.close()
        with self._lock:
            for each in self._sockets:
                with contextlib.suppress(OSError):
                    each.close()

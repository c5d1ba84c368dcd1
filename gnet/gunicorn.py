"""A gunicorn worker class: gunicorn's arbiter runs the processes, gnet serves in each.

::

    gunicorn -k gnet.gunicorn.Worker -w 4 -b 127.0.0.1:8124 myapp:handle

``myapp:handle`` is a gnet connection listener, Node-style (``handle(sock)``
sets up listeners and returns) or straight-line (it reads and writes with
the blocking helpers and returns when done).  gunicorn binds the addresses
(TCP, ``unix:PATH``, ``fd://N``, systemd sockets), forks the workers, watches
their heartbeat, restarts dead ones and reloads on HUP; each worker serves
every listening socket with a :class:`gnet.Server` of its own.  With
``--reuse-port`` gunicorn gives each worker sockets of its own and the
kernel spreads the connections.

Signals, as gunicorn defines them for its workers:

* TERM (the arbiter's graceful stop, HUP reload, TTOU, ``max_requests``):
  stop accepting at once, let open connections finish for up to
  ``graceful_timeout`` seconds (heartbeats continue meanwhile), then destroy
  the rest and exit.
* QUIT, INT: destroy every connection and exit at once.
* USR1 reopens the log files; WINCH is ignored.

``--proxy-protocol v1|v2|auto`` makes every server read a PROXY protocol
header before the handler runs, from the peers in ``--proxy-allow-from``
(gunicorn's default: ``127.0.0.1,::1``; ``*``: any).

``max_requests`` (with its jitter) counts *connections*: after that many the
worker drains and exits and the arbiter starts a fresh one.  Like
gunicorn's gevent worker, this one applies ``gevent.monkey.patch_all()`` in
each worker, so a handler may call blocking libraries.  Not supported:
gunicorn's TLS settings (``certfile``/``keyfile``: the worker refuses to
start) and ``worker_connections`` (a gnet server has no limit that leaves
connections queued for another worker; ``max_connections`` would drop them).

Needs the optional ``gunicorn`` package (``pip install gnet[gunicorn]``).
"""

from __future__ import annotations

import os
from typing import Any

import gevent
import gevent.event
import gevent.monkey
from gunicorn.errors import ConfigError  # type: ignore[import-untyped, import-not-found, unused-ignore]
from gunicorn.workers.base import Worker as _GunicornWorker  # type: ignore[import-untyped, import-not-found, unused-ignore]

from .server import Server, create_server
from .socket import Socket

__all__ = ["Worker"]

_HEARTBEAT_MAX = 1.0  # seconds between heartbeats at most (gunicorn's gevent worker: 1)


class Worker(_GunicornWorker):  # type: ignore[misc]
    """gunicorn's ``-k gnet.gunicorn.Worker``: one gnet server per listening socket.

    The application gunicorn loads (``APP_MODULE``) is the connection
    listener of every server.  No Node equivalent (Node's ``cluster`` module
    is the nearest: a primary forking workers that share a listener).
    """

    @classmethod
    def check_config(cls, cfg: Any, log: Any) -> None:
        if cfg.is_ssl:
            raise ConfigError(
                "gnet.gunicorn.Worker serves plain TCP: drop certfile/keyfile "
                "(terminate TLS in front, or in the connection listener)"
            )

    def init_process(self) -> None:
        # After the fork, as gunicorn's gevent worker does: patch, then give
        # this process a fresh hub (the arbiter's may exist).
        gevent.monkey.patch_all()
        gevent.reinit()
        self._wake = gevent.event.Event()
        self._quitting = False
        self._servers: list[Server] = []
        self._connections: set[Socket] = set()
        super().init_process()  # signals, the application, then run()

    def init_signals(self) -> None:
        super().init_signals()
        # gunicorn's handlers are plain Python signal handlers, which run only
        # when Python code does; the wakeup fd they write to is watched by
        # the hub, so a signal wakes the worker at once.
        self._wakeup_watcher = gevent.get_hub().loop.io(self.PIPE[0], 1)
        self._wakeup_watcher.start(self._on_wakeup_fd)

    def _on_wakeup_fd(self) -> None:
        try:
            while os.read(self.PIPE[0], 4096):
                pass
        except BlockingIOError:
            pass
        self._wake.set()

    # -- gunicorn's signal handlers (run in whatever greenlet is current)

    def handle_exit(self, sig: int, frame: Any) -> None:
        self.alive = False
        self._wake.set()

    def handle_quit(self, sig: int, frame: Any) -> None:
        # gunicorn's own sleeps and exits inside the handler; here run() does it.
        self.alive = False
        self._quitting = True
        self._wake.set()

    # -- the worker's life

    def run(self) -> None:
        handler = self.wsgi  # gunicorn's name for the loaded application
        options = self._server_options()
        for listener in self.sockets:
            server = create_server(
                options, lambda sock, handler=handler: self._on_connection(sock, handler)
            )
            server.on(
                "error", lambda err, listener=listener: self.log.warning("%s: %s", listener, err)
            )
            server.listen({"handle": listener, "backlog": self.cfg.backlog})
            self._servers.append(server)
        self.log.info(
            "gnet worker %s serving %s", self.pid, ", ".join(str(s) for s in self.sockets)
        )
        interval = min(_HEARTBEAT_MAX, self.timeout / 2) if self.timeout else _HEARTBEAT_MAX
        while self.alive:
            self.notify()
            if self.ppid != os.getppid():
                self.log.info("Parent changed, shutting down: %s", self)
                self.alive = False
                break
            self._wake.wait(interval)
            self._wake.clear()
        if self._quitting:
            self.cfg.worker_int(self)
            self._stop_now()
        else:
            self._drain(self.cfg.graceful_timeout, interval)

    def _server_options(self) -> dict[str, Any]:
        """gunicorn's ``--proxy-protocol`` and ``--proxy-allow-from`` as gnet's options.

        gunicorn reads the header for HTTP; here every connection's header is
        read before the handler runs (``sock.proxy``, ``sock.remote_address``).
        """
        mode = getattr(self.cfg, "proxy_protocol", "off")
        if mode is True:  # gunicorn before 24: a flag
            mode = "auto"
        if mode in (False, None, "off"):
            return {}
        allowed = [ip for ip in getattr(self.cfg, "proxy_allow_ips", ["*"]) if ip]
        if "*" in allowed:
            return {"proxy_protocol": mode}
        return {"proxy_protocol": mode, "proxy_trusted": allowed}

    def _on_connection(self, sock: Socket, handler: Any) -> None:
        self._connections.add(sock)
        sock.once("close", lambda _had_error: self._connections.discard(sock))
        self.nr += 1
        if self.nr >= self.max_requests and self.alive:
            self.log.info("Autorestarting worker after %d connections.", self.nr)
            self.alive = False
            self._wake.set()
        handler(sock)

    def _drain(self, timeout: float, interval: float) -> None:
        """Stop accepting; let connections finish until ``timeout``; destroy what is left.

        ``Server.shutdown`` for each server, with ``idle_after=None``: a
        reload (HUP, TTOU) must cut nothing, so a client idle on an old
        worker keeps its connection until it ends it or the graceful timeout
        passes, as with gunicorn's own workers.  A handler that serves
        requests in a loop can check ``sock.server.shutting_down`` between
        them.  Heartbeats go on meanwhile: a long drain is not a hung worker.
        """
        self.log.info("Draining %d connection(s) for up to %gs", len(self._connections), timeout)
        stops = [gevent.spawn(server.shutdown, timeout, idle_after=None) for server in self._servers]
        while not all(stop.ready() for stop in stops):
            self.notify()
            gevent.wait(stops, timeout=interval)
        if sum(stop.get() for stop in stops):
            self.log.warning("Worker graceful timeout (pid:%s)", self.pid)

    def _stop_now(self) -> None:
        for server in self._servers:
            server.close()
        for sock in list(self._connections):
            sock.destroy()

"""``readable.pipe(dest)``: forwarding ``'data'`` with backpressure.

Node's rules: ``dest.write()`` returning ``False`` pauses the source until
``dest`` emits ``'drain'``; the source's ``'end'`` ends ``dest`` (unless
``end=False``); an ``'error'`` or ``'close'`` of ``dest`` unpipes.  Any
emitter with ``write()``/``end()`` can be a destination.
"""

from __future__ import annotations

from typing import Any

from .emitter import EventEmitter

__all__ = ["Pipe"]

Chunk = bytes | str


class Pipe:
    """One ``src.pipe(dest)``: forwards ``'data'`` with backpressure.

    Node's rules: ``dest.write()`` returning ``False`` pauses ``src`` until
    ``dest`` emits ``'drain'``; ``src``'s ``'end'`` ends ``dest`` (unless
    ``end=False``); an ``'error'`` or ``'close'`` of ``dest`` unpipes.
    """

    __slots__ = ("src", "dest", "end", "_waiting_drain", "_drain_listener")

    def __init__(self, src: EventEmitter, dest: EventEmitter, end: bool) -> None:
        self.src = src
        self.dest = dest
        self.end = end
        self._waiting_drain = False
        self._drain_listener = False  # added on the first False write, as Node does
        # _add() is on() without the checks a caller's listener gets: these
        # are gnet's own methods, and a pipe is made per Node-style connection.
        src._add("data", self.on_data, False)
        src._add("end", self.on_end, False)
        gone = self.on_dest_gone  # one bound method for both: 64 bytes a connection
        if isinstance(dest, EventEmitter):
            dest._add("error", gone, False)
            dest._add("close", gone, False)
        else:  # a duck-typed destination: anything with on()
            dest.on("error", gone)
            dest.on("close", gone)

    def on_data(self, chunk: Chunk) -> None:
        if self.dest.write(chunk) is False and not self._waiting_drain:  # type: ignore[attr-defined]
            self._waiting_drain = True
            if not self._drain_listener:
                self._drain_listener = True
                self.dest.on("drain", self.on_drain)
            self.src.pause()  # type: ignore[attr-defined]

    def on_drain(self) -> None:
        if self._waiting_drain:
            self._waiting_drain = False
            self.src.resume()  # type: ignore[attr-defined]

    def on_end(self) -> None:
        if self.end:
            self.dest.end()  # type: ignore[attr-defined]
        self.src.unpipe(self.dest)  # type: ignore[attr-defined]

    def on_dest_gone(self, *args: Any) -> None:
        self.src.unpipe(self.dest)  # type: ignore[attr-defined]

    def detach(self) -> None:
        self.src.remove_listener("data", self.on_data)
        self.src.remove_listener("end", self.on_end)
        if self._drain_listener:
            self.dest.remove_listener("drain", self.on_drain)
        self.dest.remove_listener("error", self.on_dest_gone)
        self.dest.remove_listener("close", self.on_dest_gone)

"""A TLS server's SNI: Node's ``server.addContext`` table and ``SNICallback``.

:class:`SNIContexts` holds the ``(hostname pattern, SecureContext)`` pairs
``add_context`` registers (Node's wildcard rule: ``*`` stands for any run of
characters but ``.``; the most recently added match wins) and an optional
Node-style ``SNICallback(servername, cb)``, where ``cb(err, context)``.

:meth:`SNIContexts.resolve` answers for a servername through a callback,
so the server, which reads the SNI name from the ClientHello itself
(:func:`gnet.tls.parse_client_hello`), can wait for an ``SNICallback`` that
answers later, then make its ``SSLObject`` with the chosen context.  (Not
``SSLContext.sni_callback``: Python calls that inside the handshake, where
no answer can be waited for, and gevent's monkey-patched ``SSLContext``
wraps it for its own sockets only.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

from .._aliases import with_camel_aliases
from ..errors import make_error
from .context import SecureContext, create_secure_context
from .roles import ServerRole

if TYPE_CHECKING:
    import ssl

__all__ = ["SNIContexts"]

Chosen: TypeAlias = "SecureContext | ssl.SSLContext | None"
Answer: TypeAlias = "Callable[[BaseException | None, Chosen], None]"


def _pattern(hostname: str) -> re.Pattern[str]:
    """Node's addContext regular expression for ``hostname``."""
    escaped = re.sub(r"([.^$+?\-\\\[\]{}])", r"\\\1", hostname).replace("*", "[^.]*")
    return re.compile(f"^{escaped}\\Z")


@with_camel_aliases
class SNIContexts:
    """Node's server-side SNI: the ``addContext`` table and ``SNICallback``.

    ``role`` is the server's :class:`ServerRole`: a context chosen by SNI
    gets the server's ``request_cert``/``reject_unauthorized``/ALPN, as in
    Node, where those belong to the server, not to the context.
    """

    def __init__(
        self, sni_callback: Callable[..., Any] | None = None, role: ServerRole | None = None
    ) -> None:
        if sni_callback is not None and not callable(sni_callback):
            raise make_error(
                "ERR_INVALID_ARG_TYPE", "options.SNICallback", "of type function", sni_callback
            )
        self.sni_callback = sni_callback
        self.role = role or ServerRole()
        self._contexts: list[tuple[re.Pattern[str], SecureContext]] = []

    def add_context(self, hostname: str, context: SecureContext | Mapping[str, Any]) -> None:
        """Node's ``server.addContext(hostname, context)``: ``context`` is a
        SecureContext or the options to make one."""
        if not hostname:
            raise make_error("ERR_TLS_REQUIRED_SERVER_NAME")
        if not isinstance(context, SecureContext):
            context = create_secure_context(context)
        self._contexts.append((_pattern(str(hostname)), context))

    def lookup(self, servername: str) -> SecureContext | None:
        """The context ``add_context`` registered for ``servername`` (the last match)."""
        for pattern, context in reversed(self._contexts):
            if pattern.match(servername):
                return context
        return None

    def resolve(self, servername: str, answer: Answer) -> None:
        """Find the context for ``servername`` and call ``answer(err, context)``
        once: through the ``SNICallback`` when there is one (Node calls it
        instead of the table), else from the table.  ``context`` ``None``
        keeps the server's own."""
        if self.sni_callback is None:
            answer(None, self.lookup(servername))
            return
        answered = False

        def done(err: BaseException | None = None, context: Chosen = None) -> None:
            nonlocal answered
            if answered:
                answer(make_error("ERR_MULTIPLE_CALLBACK"), None)
                return
            answered = True
            answer(err, context)

        try:
            self.sni_callback(servername, done)
        except Exception as exc:  # the user's callback failed: that connection fails
            if not answered:
                answered = True
                answer(exc, None)

    def ssl_context_for(self, chosen: Chosen) -> ssl.SSLContext | None:
        """The ``SSLContext`` a connection switches to for a resolved context."""
        if chosen is None:
            return None
        if isinstance(chosen, SecureContext):
            return chosen.server_context(self.role)
        return chosen

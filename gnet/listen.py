"""Making a listening socket: bind TCP or UNIX, or take over a handle.

Pure socket work for :meth:`gnet.server.Server.listen`: each function
returns a listening, non-blocking ``_socket.socket`` or raises the error
Node would emit as the server's ``'error'`` (``listen EADDRINUSE: address
already in use 127.0.0.1:8124``, ...).  No events, no greenlets.
"""

from __future__ import annotations

import _socket
import errno
import os
import socket as _pysocket
import stat
from typing import Any

from .errors import from_oserror, make_error, system_error
from .options import ListenOptions

__all__ = ["bind_tcp", "bind_unix", "adopt_handle", "unix_path_error"]

# sockaddr_un's sun_path: 108 bytes on Linux, a path's terminating NUL included.
_SUN_PATH = 108


def unix_path_error(path: str, syscall: str) -> OSError | None:
    """The error for a UNIX socket path too long for ``sockaddr_un``, or None.

    Node v20 (libuv 1.46) silently truncated such a path and listened on (or
    connected to) another one; current Node refuses it with EINVAL (libuv's
    ``UV_PIPE_NO_TRUNCATE``), and so does gnet, saying why.
    """
    size = len(os.fsencode(path))
    limit = _SUN_PATH if path.startswith("\0") else _SUN_PATH - 1
    if size <= limit:
        return None
    return system_error(
        errno.EINVAL,
        syscall,
        path,
        message=f"{syscall} EINVAL: UNIX socket path too long ({size} bytes; "
        f"at most {limit} fit in sockaddr_un) {path}",
    )


def bind_tcp(host: str | None, options: ListenOptions) -> Any:
    """Listen on ``host`` (an IP literal; None: ``'::'`` dual-stack, else ``'0.0.0.0'``)."""
    port = options.port
    candidates = [host] if host is not None else ["::", "0.0.0.0"]
    err: BaseException | None = None
    for candidate in candidates:
        family = _pysocket.AF_INET6 if ":" in candidate else _pysocket.AF_INET
        try:
            sock = _socket.socket(family, _pysocket.SOCK_STREAM)
        except OSError as exc:
            err = exc
            continue  # no IPv6 here: fall back to 0.0.0.0
        try:
            sock.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_REUSEADDR, 1)
            if options.reuse_port and hasattr(_pysocket, "SO_REUSEPORT"):
                sock.setsockopt(_pysocket.SOL_SOCKET, _pysocket.SO_REUSEPORT, 1)
            if family == _pysocket.AF_INET6:
                sock.setsockopt(_pysocket.IPPROTO_IPV6, _pysocket.IPV6_V6ONLY, int(options.ipv6_only))
            sock.bind((candidate, port))
            sock.listen(options.backlog)
        except OSError as exc:
            sock.close()
            err = from_oserror(exc, "listen", candidate, port, description=True)
            if host is None and exc.errno in (errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL):
                continue
            break
        sock.setblocking(False)
        return sock
    assert err is not None
    raise from_oserror(err, "listen", host, port, description=True)


def bind_unix(path: str, options: ListenOptions) -> Any:
    """Listen on a UNIX socket ``path`` (a leading ``'\\0'``: Linux's abstract namespace)."""
    readable_all, writable_all = options.readable_all, options.writable_all
    if path.startswith("\0") and (readable_all or writable_all):
        raise make_error(
            "ERR_INVALID_ARG_VALUE",
            "options",
            options,
            "can not set readableAll or writableAllt to true when path is abstract unix socket",
        )
    too_long = unix_path_error(path, "listen")
    if too_long is not None:
        raise too_long
    sock = _socket.socket(_pysocket.AF_UNIX, _pysocket.SOCK_STREAM)
    try:
        sock.bind(path)
        if readable_all or writable_all:
            mode = os.stat(path).st_mode
            if readable_all:
                mode |= stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
            if writable_all:
                mode |= stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
            os.chmod(path, stat.S_IMODE(mode))
        sock.listen(options.backlog)
    except (OSError, ValueError) as exc:  # ValueError: a NUL inside the path
        sock.close()
        code = getattr(exc, "errno", None) or errno.EINVAL
        if code == errno.ENOENT:
            code = errno.EACCES  # libuv's uv_pipe_bind reports a missing directory so
        raise system_error(code, "listen", path, -1, description=True) from None
    sock.setblocking(False)
    return sock


def adopt_handle(options: ListenOptions) -> Any:
    """Listen on a duplicate of an existing descriptor: a listening gnet ``Server``,
    any object with ``fileno()``, ``{'fd': n}`` or the ``fd`` option."""
    handle, fd = options.handle, options.fd
    if handle is not None and hasattr(handle, "fileno"):
        fd = handle.fileno()
    elif isinstance(handle, dict):
        fd = handle.get("fd")
    sock = None
    try:
        # Node tries any number >= 0 (2**40, 1.5) and reports EINVAL.
        if not isinstance(fd, (int, float)) or not 0 <= fd <= 0x7FFFFFFF or fd != int(fd):
            raise OSError(errno.EINVAL, "invalid handle")
        dup = os.dup(int(fd))
        try:
            sock = _socket.socket(fileno=dup)
        except OSError:
            os.close(dup)
            raise
        if sock.type != _pysocket.SOCK_STREAM:
            raise OSError(errno.EINVAL, "not a stream socket")
        sock.listen(options.backlog)
    except OSError:
        if sock is not None:
            sock.close()
        # Node reports every unusable handle or fd as an async EINVAL.
        raise system_error(errno.EINVAL, "listen", None, None, description=True) from None
    sock.setblocking(False)
    return sock

"""The gnet echo as a gunicorn application: ``gunicorn -k gnet.gunicorn.Worker gunicorn_echo:echo``.

The same connection listener as gnet_events.py (the socket piped into
itself), for benchmarks/gunicorn_scaling.py.
"""


def quiet_error(_err):
    # connrate and the end of a run close connections with RST: expected, not worth a log line.
    pass


def echo(sock):
    sock.on('error', quiet_error)
    sock.pipe(sock)

"""What the TLS echo servers share: the certificate and key tls.py made for this
run (PEM files named by BENCH_TLS_CERT and BENCH_TLS_KEY), and the stdlib
server context the Python servers use. Each server keeps its library's
defaults otherwise (session tickets included); loadgen offers one cipher suite
and one group, so every server negotiates the same."""

import os

CERT = os.environ.get('BENCH_TLS_CERT', '')
KEY = os.environ.get('BENCH_TLS_KEY', '')


def server_context(ssl=None):
    """A server context with the run's certificate; `ssl` is the module whose
    SSLContext to make (gevent's for a gevent server: the stdlib's would
    handshake blocking the whole process)."""
    if ssl is None:
        import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(CERT, KEY)
    return ctx


def pem(path):
    with open(path, 'rb') as f:
        return f.read()

"""gnet next to blocking code, in subprocesses: stdlib clients in threads against a gnet
echo server, and handlers calling blocking stdlib code with and without
``gevent.monkey.patch_all()``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from support import PipeReader, Served, run_python

# ----------------------------------------------------------------------
# many blocking clients through a gnet echo server


CLIENTS_SCRIPT = r"""
import hashlib, random, socket, sys, threading

port, clients, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
results = [None] * clients

def run(i):
    data = random.Random(i).randbytes(size)
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    sender = threading.Thread(target=lambda: (s.sendall(data), s.shutdown(socket.SHUT_WR)))
    sender.start()
    got = bytearray()
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        got += chunk
    sender.join()
    s.close()
    results[i] = hashlib.sha256(got).hexdigest() == hashlib.sha256(data).hexdigest()

threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("OK" if all(results) else f"FAIL {results}", flush=True)
"""


def test_blocking_clients_move_5mb_through_a_gnet_echo_server(
    serve: Callable[..., Served], tmp_path: Any
) -> None:
    served = serve(lambda sock: sock.pipe(sock))
    script = tmp_path / "clients.py"
    script.write_text(CLIENTS_SCRIPT)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(served.port), "4", str(5 << 20)],
        stdout=subprocess.PIPE,
    )
    try:
        # read cooperatively: the echo server runs in this process's hub
        out = PipeReader(proc.stdout).read_to_eof(timeout=60)
        proc.wait(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
    assert out.strip() == "OK"
    assert proc.returncode == 0


# ----------------------------------------------------------------------
# monkey-patching


PATCHED_SCRIPT = r"""
from gevent import monkey
monkey.patch_all()

import http.server, json, socket, sys, threading, time, urllib.request
from gevent import pywsgi
import gnet

backend = sys.argv[1]
N = 50

if backend == "pywsgi":
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"pong"]
    web = pywsgi.WSGIServer(("127.0.0.1", 0), app, log=None)
    web.start()
    url = f"http://127.0.0.1:{web.server_port}/"
    stop = web.stop
else:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "4")
            self.end_headers()
            self.wfile.write(b"pong")
        def log_message(self, *args):
            pass
    class Server(http.server.ThreadingHTTPServer):
        request_queue_size = 128  # the stdlib's 5 would drop SYNs of 50 clients
    web = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{web.server_address[1]}/"
    def stop():
        web.shutdown()
        web.server_close()

def handle(sock):
    with sock:
        name = sock.readline().strip()
        time.sleep(0.2)  # blocking stdlib code, cooperative under patch_all
        with urllib.request.urlopen(url, timeout=10) as resp:
            body = resp.read()
        sock.sendall(name + b" " + body + b"\n")

server = gnet.create_server(handle)
server.listen(0, "127.0.0.1")
port = server.address()["port"]

answers = [None] * N
def client(i):
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(b"c%d\n" % i)
        answers[i] = s.makefile("rb").readline()

t0 = time.monotonic()
threads = [threading.Thread(target=client, args=(i,)) for i in range(N)]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.monotonic() - t0
server.close()
stop()
ok = answers == [b"c%d pong\n" % i for i in range(N)]
print(json.dumps({"ok": ok, "elapsed": elapsed, "answers": [a and a.decode() for a in answers[:3]],
                  "patched": monkey.is_module_patched("socket")}))
"""


UNPATCHED_SCRIPT = r"""
import json, time
import gevent, gevent.monkey
import gnet

N = 50

def backend_handle(sock):
    with sock:
        sock.sendall(b"pong " + sock.readline())

backend = gnet.create_server(backend_handle)
backend.listen(0, "127.0.0.1")
backend_port = backend.address()["port"]

def handle(sock):
    with sock:
        name = sock.readline().strip()
        gevent.sleep(0.2)  # stands for slow work: the 50 handlers must overlap
        with gnet.open_connection(backend_port, "127.0.0.1", timeout=10) as up:
            up.sendall(name + b"\n")
            answer = up.readline()
        sock.sendall(answer)

server = gnet.create_server(handle)
server.listen(0, "127.0.0.1")
port = server.address()["port"]

def client(i):
    with gnet.open_connection(port, "127.0.0.1", timeout=10) as c:
        c.sendall(b"c%d\n" % i)
        return c.readline(timeout=20)

t0 = time.monotonic()
jobs = [gevent.spawn(client, i) for i in range(N)]
gevent.joinall(jobs, timeout=30, raise_error=True)
elapsed = time.monotonic() - t0
answers = [j.value for j in jobs]
server.close()
backend.close()
ok = answers == [b"pong c%d\n" % i for i in range(N)]
print(json.dumps({"ok": ok, "elapsed": elapsed, "answers": [a and a.decode() for a in answers[:3]],
                  "patched": gevent.monkey.is_anything_patched()}))
"""


def _run_script(tmp_path: Any, source: str, *args: str) -> dict[str, Any]:
    """Run ``source``; its last line of output is a JSON report."""
    proc = run_python(tmp_path, source, *args)
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stdout.decode().strip().splitlines()
    assert lines, proc.stderr.decode()
    result: dict[str, Any] = json.loads(lines[-1])
    return result


@pytest.mark.parametrize("backend", ["pywsgi", "http.server"])
def test_patch_all_handlers_calling_blocking_stdlib_run_concurrently(
    tmp_path: Any, backend: str
) -> None:
    result = _run_script(tmp_path, PATCHED_SCRIPT, backend)
    assert result["patched"]
    assert result["ok"], result
    # 50 handlers each blocking 0.2 s (sleep + HTTP): sequential would be >= 10 s.
    assert result["elapsed"] < 5, result


def test_without_patch_all_handlers_run_concurrently(tmp_path: Any) -> None:
    result = _run_script(tmp_path, UNPATCHED_SCRIPT)
    assert not result["patched"]
    assert result["ok"], result
    assert result["elapsed"] < 5, result

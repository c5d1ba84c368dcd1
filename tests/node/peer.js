'use strict';
// A Node `net` peer for gnet's interop tests.
//
//   node peer.js server echo|count [UNIX_PATH] [SIZE]
//       Listens on 127.0.0.1:0 (or UNIX_PATH), prints {"port": N} or
//       {"path": P} on one line, serves ONE connection, then prints a report
//       line and exits.  echo: pipes what it receives back.  count: sends
//       SIZE random bytes of its own while it counts what it receives, and
//       ends after the client's FIN and its own sending.
//   node peer.js client echo|count PORT|UNIX_PATH SIZE
//       Connects, sends SIZE random bytes (honouring backpressure), end()s,
//       reads everything until the server ends, prints a report line.
//
// A report is {"sent", "sent_sha256", "received", "received_sha256",
// "events", "had_error"}: byte counts, hex SHA-256 digests, and the socket's
// event names (consecutive "data" collapsed).
const crypto = require('crypto');
const net = require('net');

const EVENTS = ['connect', 'ready', 'end', 'finish', 'error', 'close'];

function instrument(sock, payload, onDone) {
  const report = { sent: 0, received: 0, events: [], had_error: null };
  const recvHash = crypto.createHash('sha256');
  const sentHash = crypto.createHash('sha256');
  sentHash.update(payload);
  for (const event of EVENTS) {
    sock.on(event, (arg) => {
      if (event === 'error') report.events.push(`error:${arg.code || arg.message}`);
      else if (event === 'close') report.events.push(`close:${arg}`);
      else report.events.push(event);
    });
  }
  sock.on('data', (chunk) => {
    if (report.events[report.events.length - 1] !== 'data') report.events.push('data');
    report.received += chunk.length;
    recvHash.update(chunk);
  });
  sock.on('close', (hadError) => {
    report.had_error = hadError;
    report.sent = payload.length;
    report.sent_sha256 = sentHash.digest('hex');
    report.received_sha256 = recvHash.digest('hex');
    onDone(report);
  });
}

// Write `payload` in 64 KiB pieces, waiting for 'drain' on backpressure; then then().
function sendAll(sock, payload, then) {
  let offset = 0;
  const pump = () => {
    while (offset < payload.length) {
      const piece = payload.subarray(offset, offset + 65536);
      offset += piece.length;
      if (!sock.write(piece)) {
        sock.once('drain', pump);
        return;
      }
    }
    then();
  };
  pump();
}

// An allowHalfOpen "count" server: sends `payload`, and ends once both that
// and the peer's FIN are done.
function serveCount(sock, payload) {
  const state = { sent: false, peerEnded: false };
  const maybeEnd = (key) => {
    state[key] = true;
    if (state.sent && state.peerEnded) sock.end();
  };
  sock.on('end', () => maybeEnd('peerEnded'));
  sendAll(sock, payload, () => maybeEnd('sent'));
}

function print(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function runServer(mode, path, size) {
  const server = net.createServer({ allowHalfOpen: mode === 'count' }, (conn) => {
    server.close(); // one connection only; 'close' waits for it
    if (mode === 'echo') {
      // the echoed bytes are what was received: report them as sent
      const chunks = [];
      conn.on('data', (chunk) => chunks.push(chunk));
      instrument(conn, Buffer.alloc(0), (report) => {
        const echoed = Buffer.concat(chunks);
        report.sent = echoed.length;
        report.sent_sha256 = crypto.createHash('sha256').update(echoed).digest('hex');
        print(report);
      });
      conn.pipe(conn);
    } else {
      const payload = crypto.randomBytes(size);
      instrument(conn, payload, print);
      serveCount(conn, payload);
    }
  });
  const announce = () => print(path ? { path } : { port: server.address().port });
  if (path) server.listen(path, announce);
  else server.listen(0, '127.0.0.1', announce);
}

function runClient(target, size) {
  const payload = crypto.randomBytes(size);
  const options = /^\d+$/.test(target) ? { port: Number(target), host: '127.0.0.1' } : { path: target };
  const sock = net.connect(options);
  instrument(sock, payload, print);
  sock.on('connect', () => sendAll(sock, payload, () => sock.end()));
}

const [role, mode, a, b] = process.argv.slice(2);
if (role === 'server') {
  const path = a && !/^\d+$/.test(a) ? a : null;
  const size = Number(path ? b : a) || 0;
  runServer(mode, path, size);
} else if (role === 'client') {
  runClient(a, Number(b));
} else {
  console.error('usage: peer.js server|client echo|count ...');
  process.exit(2);
}

'use strict';
// A Node `tls` peer for gnet's TLS interop tests.
//
//   node tls_peer.js server OPTIONS_JSON
//       Listens on 127.0.0.1:0, prints {"event":"listening","port":N}, serves
//       ONE connection, prints what it saw, then exits.
//   node tls_peer.js client PORT OPTIONS_JSON
//       Connects to 127.0.0.1:PORT, prints what it saw, then exits.
//
// OPTIONS_JSON is Node's tls options, with file paths where Node takes PEM
// contents (cert, key, ca, pfx; each a path or a list of paths), plus:
//   mode: "echo" (default) | "count" | "none"
//       echo: the server pipes back what it reads; the client sends `size`
//       bytes, end()s, and reads everything until the server ends.
//       count: both sides send `size` random bytes (honouring backpressure)
//       and count what they receive; each end()s after its own sending, and
//       the server keeps reading after the client's end (allowHalfOpen), so
//       5 MB can flow each way with a half-close in the middle.
//       none: no data; the socket is ended right after the handshake.
//   size: bytes to send (default 0)
//   contexts: {"hostname": {cert, key, ...}} for server.addContext()
//   checkHost: false to skip the client's checkServerIdentity (the default
//       one runs otherwise, as in Node)
//   starttls: a client first connects in plain text, writes this string (a
//       STARTTLS command), and at once starts TLS on the same socket, without
//       waiting for an answer: the ClientHello follows the command at once.
//   fullPeer: true to add "peerDetailed", getPeerCertificate(true) in full
//       (Buffers as hex; an issuerCertificate that is the certificate
//       itself as the string "self")
//
// Every line printed is one JSON object with an "event":
//   listening {port}
//   secure {side, authorized, authorizationError, alpnProtocol, servername,
//           protocol, cipher, peer (certificate fields; raw as hex), local}
//   tlsClientError / error {code, message, reason, library}
//   report {sent, sent_sha256, received, received_sha256, events, had_error}
//   (the last line; events are the socket's event names, "data" collapsed)
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const tls = require('tls');

const FILE_OPTIONS = ['cert', 'key', 'ca', 'pfx', 'dhparam'];

function print(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function loadFiles(options) {
  const out = { ...options };
  for (const name of FILE_OPTIONS) {
    if (out[name] === undefined) continue;
    out[name] = Array.isArray(out[name]) ?
      out[name].map((p) => fs.readFileSync(p)) : fs.readFileSync(out[name]);
  }
  return out;
}

function errorFields(err) {
  return {
    code: err.code, message: err.message, reason: err.reason, library: err.library,
  };
}

function certFields(cert) {
  if (!cert || !cert.raw) return cert && Object.keys(cert).length === 0 ? {} : null;
  const out = {};
  for (const key of ['subject', 'issuer', 'subjectaltname', 'valid_from', 'valid_to',
    'fingerprint', 'fingerprint256', 'serialNumber', 'ca', 'bits']) {
    if (cert[key] !== undefined) out[key] = cert[key];
  }
  out.raw = cert.raw.toString('hex');
  return out;
}

function secureInfo(sock, side) {
  return {
    event: 'secure',
    side,
    authorized: sock.authorized,
    authorizationError: sock.authorizationError === undefined ?
      null : sock.authorizationError,
    alpnProtocol: sock.alpnProtocol,
    servername: sock.servername === undefined ? null : sock.servername,
    protocol: sock.getProtocol(),
    cipher: sock.getCipher(),
    peer: certFields(sock.getPeerCertificate()),
    local: certFields(sock.getCertificate()),
  };
}

// getPeerCertificate(true) as JSON: Buffers as hex, a self-issued root's
// circular issuerCertificate as "self".
function detailed(cert) {
  const out = {};
  for (const [key, value] of Object.entries(cert)) {
    if (Buffer.isBuffer(value)) out[key] = value.toString('hex');
    else if (key === 'issuerCertificate') out[key] = value === cert ? 'self' : detailed(value);
    else if (value && typeof value === 'object' && !Array.isArray(value)) out[key] = { ...value };
    else out[key] = value;
  }
  return out;
}

// Count or echo on `sock`; print the report when it closes, then onClose().
function run(sock, options, isServer, onClose) {
  const mode = options.mode || 'echo';
  const size = options.size || 0;
  const payload = mode === 'count' || !isServer ? crypto.randomBytes(size) : Buffer.alloc(0);
  const report = { sent: 0, received: 0, events: [], had_error: null };
  const recvHash = crypto.createHash('sha256');
  const sentHash = crypto.createHash('sha256');
  for (const event of ['end', 'finish', 'close']) {
    sock.on(event, () => report.events.push(event));
  }
  sock.on('error', (err) => {
    report.events.push(`error:${err.code || err.message}`);
    print({ event: 'error', ...errorFields(err) });
  });
  sock.on('data', (chunk) => {
    if (report.events[report.events.length - 1] !== 'data') report.events.push('data');
    report.received += chunk.length;
    recvHash.update(chunk);
    if (isServer && mode === 'echo') {
      report.sent += chunk.length;
      sentHash.update(chunk);
      sock.write(chunk);
    }
  });
  sock.on('close', (hadError) => {
    report.had_error = hadError;
    if (!(isServer && mode === 'echo')) {
      report.sent = payload.length;
      sentHash.update(payload);
    }
    report.sent_sha256 = sentHash.digest('hex');
    report.received_sha256 = recvHash.digest('hex');
    print({ event: 'report', ...report });
    onClose();
  });
  if (mode === 'none') {
    sock.end();
    return;
  }
  if (isServer && mode === 'echo') {
    sock.on('end', () => sock.end());
    return;
  }
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
    sock.end();
  };
  pump();
}

function server(options) {
  const opts = loadFiles(options);
  const server = tls.createServer({ allowHalfOpen: true, ...opts });
  for (const [hostname, ctx] of Object.entries(options.contexts || {})) {
    server.addContext(hostname, loadFiles(ctx));
  }
  let served = false;
  const finish = () => server.close();
  server.on('tlsClientError', (err) => {
    print({ event: 'tlsClientError', ...errorFields(err) });
    if (!served) {
      served = true;
      finish();
    }
  });
  server.on('secureConnection', (sock) => {
    served = true;
    print(secureInfo(sock, 'server'));
    run(sock, options, true, finish);
  });
  server.listen(0, '127.0.0.1', () => {
    print({ event: 'listening', port: server.address().port });
  });
}

function client(port, options) {
  if (options.starttls !== undefined) {
    const raw = net.connect(port, '127.0.0.1', () => {
      raw.write(options.starttls);
      secureClient({ ...options, socket: raw });
    });
    return;
  }
  secureClient({ port, host: '127.0.0.1', ...options });
}

function secureClient(options) {
  const opts = loadFiles(options);
  delete opts.starttls;
  if (options.checkHost === false) opts.checkServerIdentity = () => undefined;
  const sock = tls.connect({ allowHalfOpen: true, ...opts });
  let secured = false;
  sock.on('secureConnect', () => {
    secured = true;
    const info = secureInfo(sock, 'client');
    if (options.fullPeer) info.peerDetailed = detailed(sock.getPeerCertificate(true));
    print(info);
    run(sock, options, false, () => {});
  });
  sock.on('error', (err) => {
    if (!secured) print({ event: 'error', ...errorFields(err) });
  });
  sock.on('close', () => {
    if (!secured) print({ event: 'report', sent: 0, received: 0, events: ['close'], had_error: true });
  });
}

const [role, ...rest] = process.argv.slice(2);
if (role === 'server') {
  server(JSON.parse(rest[0] || '{}'));
} else if (role === 'client') {
  client(Number(rest[0]), JSON.parse(rest[1] || '{}'));
} else {
  process.stderr.write('usage: tls_peer.js server OPTIONS | client PORT OPTIONS\n');
  process.exit(2);
}

'use strict';
// Node's answers for gnet's TLS tests, one JSON document in, one out.
//
//   node tls_oracle.js identity   < [{"host": H, "cert": {subject, subjectaltname}}, ...]
//       tls.checkServerIdentity(host, cert) for each case:
//       {"valid": bool, "code", "message", "reason", "host"} or {"threw": {code, message}}
//   node tls_oracle.js context    < [{options...}, ...]
//       tls.createSecureContext(options) for each: {"ok": true} or
//       {"code", "message", "reason", "library", "name"}.  An option value
//       {"file": PATH} is replaced by that file's contents (a Buffer), and
//       {"text": PATH} by its contents as a string.
//   node tls_oracle.js cert PATH
//       new X509Certificate(pem).toLegacyObject() with Buffers as hex.
const crypto = require('crypto');
const fs = require('fs');
const tls = require('tls');

function errorFields(err) {
  return {
    code: err.code, message: err.message, reason: err.reason, library: err.library,
    name: err.constructor.name,
  };
}

function resolveFiles(value) {
  if (Array.isArray(value)) return value.map(resolveFiles);
  if (value && typeof value === 'object') {
    if (typeof value.file === 'string') return fs.readFileSync(value.file);
    if (typeof value.text === 'string') return fs.readFileSync(value.text, 'utf8');
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = resolveFiles(v);
    return out;
  }
  return value;
}

const commands = {
  identity(cases) {
    return cases.map(({ host, cert }) => {
      try {
        const err = tls.checkServerIdentity(host, cert);
        if (!err) return { valid: true };
        return { valid: false, code: err.code, message: err.message, reason: err.reason, host: err.host };
      } catch (err) {
        return { threw: errorFields(err) };
      }
    });
  },
  context(cases) {
    return cases.map((options) => {
      try {
        tls.createSecureContext(resolveFiles(options));
        return { ok: true };
      } catch (err) {
        return errorFields(err);
      }
    });
  },
};

const [command, arg] = process.argv.slice(2);
if (command === 'cert') {
  const o = new crypto.X509Certificate(fs.readFileSync(arg)).toLegacyObject();
  for (const [k, v] of Object.entries(o)) if (Buffer.isBuffer(v)) o[k] = v.toString('hex');
  process.stdout.write(`${JSON.stringify(o)}\n`);
} else if (commands[command]) {
  const input = JSON.parse(fs.readFileSync(0, 'utf8'));
  process.stdout.write(`${JSON.stringify(commands[command](input))}\n`);
} else {
  process.stderr.write('usage: tls_oracle.js identity|context|cert [PATH]\n');
  process.exit(2);
}

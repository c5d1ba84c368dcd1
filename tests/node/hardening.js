'use strict';
// Node v20's behaviour for the hardening items of issue 12, one scenario each.
//
//   node hardening.js NAME [ARG]
//
// Prints one JSON value on exit (the log of what happened, in order).  The
// Python tests cite these outputs; tests/interop/test_node_hardening.py runs
// some of them side by side with gnet.
const net = require('net');

const HOST = '127.0.0.1';
const log = [];
const code = (err) => (err ? err.code || err.message : null);

const scenarios = {
  // A second server listens on a port in use: 'error' before the process exits.
  listen_in_use(host = HOST) {
    const holder = net.createServer().listen(0, HOST, () => {
      holder.unref();
      const server = net.createServer();
      server.on('error', (err) => log.push(`error:${err.code}:${err.syscall}`));
      server.listen(holder.address().port, host);
    });
  },

  // server.close(cb) from a timer: 'close' and cb before the process exits.
  close_from_timer() {
    const server = net.createServer().listen(0, HOST);
    server.on('close', () => log.push('close'));
    setTimeout(() => server.close((err) => log.push(`cb:${code(err)}`)), 10);
  },

  // destroy() while a custom lookup never answers: 'close'(false), then exit.
  lookup_never_answers() {
    const sock = net.connect({ port: 80, host: 'example.invalid', lookup: () => {} });
    sock.on('error', (err) => log.push(`error:${code(err)}`));
    sock.on('close', (hadError) => log.push(`close:${hadError}`));
    setTimeout(() => sock.destroy(), 10);
  },

  // server.close() in a client's 'connect' listener, client and server in one
  // process: the connection the kernel completed is served to the end.
  close_in_connect_listener() {
    const server = net.createServer((conn) => {
      log.push('server:connection');
      conn.on('data', (d) => { log.push(`server:data:${d}`); conn.end('bye'); });
      conn.on('close', () => log.push('server:conn-close'));
    });
    server.on('close', () => log.push('server:close'));
    server.listen(0, HOST, () => {
      const c = net.connect(server.address().port, HOST, () => {
        log.push('client:connect');
        server.close((err) => log.push(`server:close-cb:${code(err)}`));
        c.write('hi');
      });
      c.on('data', (d) => log.push(`client:data:${d}`));
      c.on('error', (err) => log.push(`client:error:${code(err)}`));
      c.on('end', () => log.push('client:end'));
      c.on('close', () => log.push('client:close'));
    });
  },

  // What server.maxConnections and getConnections() take.
  server_arguments() {
    const server = net.createServer();
    for (const value of ['abc', -1, NaN, 1.5, null]) {
      server.maxConnections = value;
      log.push(`maxConnections=${String(value)}:${String(server.maxConnections)}`);
    }
    for (const cb of [5, undefined]) {
      try {
        server.getConnections(cb);
        log.push(`getConnections(${cb}):ok`);
      } catch (err) {
        log.push(`getConnections(${cb}):${err.code}`);
      }
    }
  },
};

process.on('exit', () => console.log(JSON.stringify(log)));
const [name, ...args] = process.argv.slice(2);
if (!scenarios[name]) {
  console.error(`unknown scenario ${name}`);
  process.exit(2);
}
scenarios[name](...args);

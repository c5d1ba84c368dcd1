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

  // connect() to a host name with no ASCII form, or from a local port that is
  // none: an async 'error' each ("what: code syscall message").
  connect_errors() {
    const server = net.createServer((conn) => conn.destroy()).listen(0, HOST, () => {
      server.unref();
      const port = server.address().port;
      const cases = [
        ['xn--a', { port, host: 'xn--a.example' }],
        ['zwj', { port, host: '\u200d.example' }],
        ['256 bytes', { port, host: `${'abcdefghi.'.repeat(25)}abcdef` }],
        ['localPort 70000', { port, host: HOST, localPort: 70000 }],
        ['localPort 1.5', { port, host: HOST, localPort: 1.5 }],
      ];
      for (const [what, options] of cases) {
        const sock = net.connect(options);
        sock.on('error', (err) => log.push(`${what}: ${err.code} ${err.syscall} ${err.message}`));
      }
    });
  },

  // listen() on a host name with no ASCII form: an async 'error'.
  listen_idna() {
    const server = net.createServer();
    server.on('error', (err) => log.push(`${err.code} ${err.syscall} ${err.message}`));
    server.listen(0, 'xn--a.example');
  },

  // What listen() takes for a backlog, an fd and a host (throws, or 'error',
  // or 'listening' on the address it shows).
  listen_arguments() {
    const cases = [
      ['backlog 2**40', [0, HOST, 2 ** 40]],
      ['backlog abc', [0, HOST, 'abc']],
      ['backlog NaN', [0, HOST, NaN]],
      ['backlog -1', [0, HOST, -1]],
      ['options.backlog abc', [{ port: 0, host: HOST, backlog: 'abc' }]],
      ['fd 2**40', [{ fd: 2 ** 40 }]],
      ['fd 1.5', [{ fd: 1.5 }]],
      ['fd -1', [{ fd: -1 }]],
      ['fd abc', [{ fd: 'abc' }]],
      ['host Buffer', [0, Buffer.from(HOST)]],
    ];
    for (const [what, args] of cases) {
      const server = net.createServer();
      server.on('error', (err) => log.push(`${what}: error ${err.code} ${err.syscall}`));
      server.on('listening', () => {
        log.push(`${what}: listening ${server.address().address}`);
        server.close();
      });
      try {
        server.listen(...args);
      } catch (err) {
        log.push(`${what}: throws ${err.code}`);
      }
    }
  },

  // The 'readable' event with read(): MODE is 'basic' (the server sends
  // 'hello' and ends), 'two' (sends 'one', then 'two' and ends once the client
  // answered), 'data-too' (a 'data' listener as well), 'resume' (resume()
  // while 'readable' is attached) or 'noread' (the listener reads nothing;
  // a timer reads later).
  readable(mode = 'basic') {
    const server = net.createServer((conn) => {
      if (mode === 'two') {
        conn.write('one');
        conn.once('data', () => conn.end('two'));
      } else {
        conn.end('hello');
      }
      conn.on('data', () => {});
      conn.on('close', () => server.close());
    });
    server.listen(0, HOST, () => {
      const c = net.connect(server.address().port, HOST);
      log.push(`flowing:${c.readableFlowing}`);
      if (mode === 'data-too') c.on('data', (d) => log.push(`data:${d}`));
      c.on('readable', () => {
        log.push(`readable:${c.readableLength}`);
        if (mode === 'noread') return;
        let chunk;
        while ((chunk = c.read()) !== null) log.push(`read:${chunk}`);
        log.push('read:null');
        if (mode === 'two' && !c.ackSent) {
          c.ackSent = true;
          c.write('ack');
        }
      });
      log.push(`flowing:${c.readableFlowing}`);
      if (mode === 'resume') {
        c.resume();
        log.push(`resumed:${c.readableFlowing}`);
      }
      c.on('end', () => log.push('end'));
      c.on('close', () => log.push('close'));
      if (mode === 'noread') {
        setTimeout(() => {
          log.push(`late:${c.read()}`);
          log.push(`late:${c.read()}`);
        }, 100);
      }
    });
  },

  // Removing the last 'readable' listener: a 'data' listener makes the socket
  // flow again (and gets what was buffered); without one it is back to null.
  readable_removed() {
    const server = net.createServer((conn) => {
      conn.end('hello');
      conn.on('close', () => server.close());
    });
    server.listen(0, HOST, () => {
      const c = net.connect(server.address().port, HOST);
      const onReadable = () => {
        log.push(`readable:${c.readableLength}`);
        c.on('data', (d) => log.push(`data:${d}`));
        log.push(`flowing:${c.readableFlowing}`);
        c.off('readable', onReadable);
        process.nextTick(() => log.push(`flowing:${c.readableFlowing}`));
      };
      c.on('readable', onReadable);
      c.on('end', () => log.push('end'));
      c.on('close', () => log.push('close'));
      const bare = new net.Socket();
      const nothing = () => {};
      bare.on('readable', nothing);
      log.push(`bare:${bare.readableFlowing}`);
      bare.off('readable', nothing);
      process.nextTick(() => log.push(`bare:${bare.readableFlowing}`));
    });
  },

  // cork() in the 'connect' listener (MODE 'listener') or before connecting
  // (MODE 'before'), with a write made while connecting: what goes out when.
  cork_in_connect(mode = 'listener') {
    const server = net.createServer((conn) => {
      conn.on('data', (d) => log.push(`server:data:${d}`));
      conn.on('end', () => {
        conn.end();
        server.close();
      });
    });
    server.listen(0, HOST, () => {
      const c = net.connect(server.address().port, HOST);
      if (mode === 'before') c.cork();
      c.write('before-');
      c.on('connect', () => {
        if (mode === 'listener') c.cork();
        c.write('a');
        log.push(`client:writableLength:${c.writableLength}`);
        setTimeout(() => {
          log.push('client:uncork');
          c.uncork();
          c.end();
        }, 100);
      });
    });
  },
};

process.on('exit', () => console.log(JSON.stringify(log)));
const [name, ...args] = process.argv.slice(2);
if (!scenarios[name]) {
  console.error(`unknown scenario ${name}`);
  process.exit(2);
}
scenarios[name](...args);

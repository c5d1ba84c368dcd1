'use strict';
// Event-order scenarios run on Node's real `net` module.
//
//   node scenarios.js NAME [UNIX_PATH]
//
// Prints one JSON object on exit: {"<object>": ["event", ...], ...}, the
// events each socket or server emitted, in order.  tests/test_node_interop.py
// runs the same scenario on gnet, recording events the same way, and
// compares the two.  Event formatting (shared with the Python side):
//   close -> "close:<hadError>", error -> "error:<code or message>",
//   consecutive "data" events collapse into one "data"; other names as is;
//   a few scenario markers ("resume", "readyState:...", "cb-...") are added
//   by hand where they pin down an ordering.
const net = require('net');

const SOCKET_EVENTS = [
  'connectionAttempt', 'connectionAttemptFailed', 'connectionAttemptTimeout', 'lookup',
  'connect', 'ready', 'data', 'end', 'finish', 'timeout', 'drain', 'error', 'close',
];
const SERVER_EVENTS = ['listening', 'connection', 'drop', 'error', 'close'];
const HOST = '127.0.0.1';

const logs = {};

function log(name, entry) {
  const list = logs[name] || (logs[name] = []);
  if (entry === 'data' && list[list.length - 1] === 'data') return;
  list.push(entry);
}

function errName(err) {
  if (!err) return 'null';
  return err.code || err.message;
}

function format(event, args) {
  if (event === 'close') return args.length ? `close:${Boolean(args[0])}` : 'close';
  if (event === 'error') return `error:${errName(args[0])}`;
  return event;
}

function track(name, emitter, events) {
  for (const event of events) {
    emitter.on(event, (...args) => log(name, format(event, args)));
  }
  return emitter;
}

const sock = (name, s) => track(name, s, SOCKET_EVENTS);
const serv = (name, s) => track(name, s, SERVER_EVENTS);

// A server whose accepted sockets are tracked as "server"; `setup(conn)` runs
// after the tracking listeners are attached.
function makeServer(options, setup) {
  const server = net.createServer(options, (conn) => {
    sock('server', conn);
    setup(conn);
  });
  return server;
}

// A port nobody listens on: bind one, note it, close it.
function freePort(cb) {
  const probe = net.createServer().listen(0, HOST, () => {
    const { port } = probe.address();
    probe.close(() => cb(port));
  });
}

// A server that ends every connection at once ('bye', then FIN), and a
// client on it given to `onClient` (the *_after_peer_fin scenarios).
function clientOfFinServer(onClient) {
  const server = makeServer({}, (conn) => {
    conn.on('data', () => {});
    conn.end('bye');
    conn.on('close', () => server.close());
  });
  server.listen(0, HOST, () => {
    const c = sock('client', net.connect(server.address().port, HOST));
    c.on('data', () => {});
    onClient(c);
  });
}

// write_after_peer_fin*: write in 'end', then again from `defer`
// (setImmediate or a 0 ms timer).
function writeAfterPeerFin(defer) {
  clientOfFinServer((c) => {
    c.on('end', () => {
      log('client', `writable:${c.writable}`);
      const ret = c.write('in-end', (err) => log('client', `cb-in-end:${errName(err)}`));
      log('client', `write-returned:${ret}`);
      defer(() => {
        const late = c.write('late', (err) => log('client', `cb-late:${errName(err)}`));
        log('client', `late-returned:${late}`);
      });
    });
  });
}

const scenarios = {
  // The client writes, waits for the echo, then ends first.
  client_ends_first(path) {
    const server = makeServer({}, (conn) => {
      conn.on('data', (d) => conn.write(d));
      conn.on('close', () => server.close());
    });
    const go = () => {
      const c = sock('client', net.connect(path ? { path } : { port: server.address().port, host: HOST }));
      c.on('connect', () => c.write('hello'));
      c.on('data', () => c.end());
    };
    path ? server.listen(path, go) : server.listen(0, HOST, go);
  },

  // The server writes and ends first; the client (not half-open) ends in return.
  server_ends_first(path) {
    const server = makeServer({}, (conn) => {
      conn.on('data', () => {});
      conn.end('bye');
      conn.on('close', () => server.close());
    });
    const go = () => {
      const c = sock('client', net.connect(path ? { path } : { port: server.address().port, host: HOST }));
      c.on('data', () => {});
    };
    path ? server.listen(path, go) : server.listen(0, HOST, go);
  },

  // allowHalfOpen server: gets the client's FIN, writes after 'end', then ends.
  half_open_server() {
    const server = makeServer({ allowHalfOpen: true }, (conn) => {
      conn.on('data', () => {});
      conn.on('end', () => {
        log('server', `readyState:${conn.readyState}`);
        conn.write('late reply');
        setImmediate(() => conn.end('bye'));
      });
      conn.on('close', () => server.close());
    });
    server.listen(0, HOST, () => {
      const c = sock('client', net.connect(server.address().port, HOST));
      c.on('data', () => {});
      c.on('connect', () => c.end('ping'));
    });
  },

  // destroy() right after connect(): no connect, no error, close(false).
  destroy_immediately() {
    const server = serv('srv', net.createServer(() => {}));
    server.listen(0, HOST, () => {
      const c = sock('client', net.connect(server.address().port, HOST));
      c.destroy();
      c.on('close', () => server.close());
    });
  },

  // destroy(err) after connect: error then close(true); the peer sees a clean end.
  destroy_with_error() {
    const server = makeServer({}, (conn) => {
      conn.on('data', () => {});
      conn.on('close', () => server.close());
    });
    server.listen(0, HOST, () => {
      const c = sock('client', net.connect(server.address().port, HOST));
      c.on('connect', () => c.destroy(new Error('boom')));
    });
  },

  // Connect to a closed port: attempt, attempt failed, ECONNREFUSED, close(true).
  connect_refused() {
    freePort((port) => sock('client', net.connect(port, HOST)));
  },

  // Connect to a UNIX path that does not exist: ENOENT, close(true).
  connect_enoent(path) {
    sock('client', net.connect(path));
  },

  // write() after our own end(): the write cb, end cb, 'error', 'close'(true).
  write_after_end() {
    const server = makeServer({}, (conn) => {
      conn.on('data', () => {});
      conn.on('error', () => {});
      conn.on('close', () => server.close());
    });
    server.listen(0, HOST, () => {
      const c = sock('client', net.connect(server.address().port, HOST));
      c.on('connect', () => {
        c.end((err) => log('client', `cb-end:${errName(err)}`));
        const ret = c.write('x', (err) => log('client', `cb-write:${errName(err)}`));
        log('client', `write-returned:${ret}`);
        log('client', `destroyed:${c.destroyed}`);
      });
    });
  },

  // resetAndDestroy() on the client: the server socket gets ECONNRESET.
  reset_and_destroy() {
    const server = makeServer({}, (conn) => {
      conn.on('data', () => conn.write('ack'));
      conn.on('close', () => server.close());
    });
    server.listen(0, HOST, () => {
      const c = sock('client', net.connect(server.address().port, HOST));
      c.on('connect', () => c.write('x'));
      c.on('data', () => c.resetAndDestroy());
    });
  },

  // server.close() with a live connection: 'close' only once it has ended.
  server_close_live() {
    const server = serv('srv', makeServer({}, (conn) => {
      conn.on('data', () => {});
      conn.on('end', () => log('srv', 'conn-end'));
      server.close();
      // a fresh connection is now refused
      const late = net.connect(server.address() ? server.address().port : port, HOST);
      late.on('error', (err) => {
        log('late', `error:${errName(err)}`);
        c.end();
      });
    }));
    let port;
    let c;
    server.listen(0, HOST, () => {
      port = server.address().port;
      c = sock('client', net.connect(port, HOST));
      c.on('data', () => {});
    });
  },

  // A second server on the same port: EADDRINUSE and no 'listening'.
  listen_twice() {
    const a = serv('a', net.createServer());
    a.listen(0, HOST, () => {
      const b = serv('b', net.createServer());
      b.listen(a.address().port, HOST, () => log('b', 'listen-callback'));
      b.on('error', () => {
        log('b', `listening:${b.listening}`);
        b.close((err) => log('b', `cb-close:${errName(err)}`));
        a.close();
      });
    });
  },

  // maxConnections = 1: the second client is dropped.
  max_connections() {
    const server = serv('srv', net.createServer((conn) => {
      sock('server', conn);
      conn.on('data', () => {});
      const port = server.address().port;
      const b = sock('dropped', net.connect(port, HOST));
      b.on('close', () => {
        first.end();
        server.close();
      });
    }));
    server.maxConnections = 1;
    let first;
    server.listen(0, HOST, () => {
      first = sock('client', net.connect(server.address().port, HOST));
      first.on('data', () => {});
    });
  },

  // setTimeout(): 'timeout' once per idle period, re-armed by activity.
  set_timeout() {
    const server = makeServer({}, (conn) => {
      conn.on('data', (d) => conn.write(d));
      conn.on('close', () => server.close());
    });
    server.listen(0, HOST, () => {
      const c = sock('client', net.connect(server.address().port, HOST));
      c.on('data', () => {});
      let timeouts = 0;
      c.setTimeout(60);
      c.on('timeout', () => {
        timeouts += 1;
        if (timeouts === 1) setTimeout(() => c.write('ping'), 300);
        else c.end();
      });
    });
  },

  // pause() before any data: nothing, not even 'end', until resume().
  pause_resume() {
    const server = makeServer({}, (conn) => {
      conn.on('data', () => {});
      conn.end('hello');
      conn.on('close', () => server.close());
    });
    server.listen(0, HOST, () => {
      const c = net.connect(server.address().port, HOST);
      c.pause();
      sock('client', c); // adding 'data' after an explicit pause() does not resume
      c.on('connect', () => {
        setTimeout(() => {
          log('client', `resume:${c.readableLength}`);
          c.resume();
        }, 200);
      });
    });
  },

  // end() right after connect(): the FIN waits for the connection.
  end_before_connect() {
    const server = makeServer({}, (conn) => {
      conn.on('data', () => {});
      conn.on('close', () => server.close());
    });
    server.listen(0, HOST, () => {
      const c = sock('client', net.connect(server.address().port, HOST));
      c.on('data', () => {});
      c.end();
    });
  },

  // allowHalfOpen=false: a write inside 'end' is delivered; one inside our
  // 'finish' (the automatic end() has run) gets EPIPE and destroys the socket.
  write_in_finish_after_peer_fin() {
    clientOfFinServer((c) => {
      c.on('end', () => {
        const ret = c.write('in-end', (err) => log('client', `cb-in-end:${errName(err)}`));
        log('client', `write-returned:${ret}`);
      });
      c.on('finish', () => {
        const ret = c.write('late', (err) => log('client', `cb-late:${errName(err)}`));
        log('client', `late-returned:${ret}`);
        log('client', `destroyed:${c.destroyed}`);
      });
    });
  },

  // The same, the late write from setImmediate() after 'end' (NODE-NET E10):
  // EPIPE even though the socket is already destroyed; no 'error'.
  write_after_peer_fin() {
    writeAfterPeerFin(setImmediate);
  },

  // The same with setTimeout(0): a 0 ms timer runs after the 'close' that
  // the automatic destroy made due (close callbacks come before timers).
  write_after_peer_fin_timer() {
    writeAfterPeerFin((fn) => setTimeout(fn, 0));
  },

  // A write queued while connecting to a closed port: its callback gets
  // ERR_SOCKET_CLOSED_BEFORE_CONNECTION after the socket's 'error'.
  write_before_refused() {
    freePort((port) => {
      const c = sock('client', net.connect(port, HOST));
      const ret = c.write('x', (err) => log('client', `cb-write:${errName(err)}`));
      log('client', `write-returned:${ret}`);
    });
  },

  // end(cb): the callback runs at finish, before the 'finish' listeners.
  end_callback() {
    const server = makeServer({}, (conn) => {
      conn.on('data', () => {});
      conn.on('close', () => server.close());
    });
    server.listen(0, HOST, () => {
      const c = sock('client', net.connect(server.address().port, HOST));
      c.on('data', () => {});
      c.on('connect', () => c.end('last words', (err) => log('client', `cb-end:${errName(err)}`)));
    });
  },
};

const [name, ...args] = process.argv.slice(2);
const scenario = scenarios[name];
if (!scenario) {
  console.error(`unknown scenario ${name}`);
  process.exit(2);
}
process.on('exit', () => process.stdout.write(`${JSON.stringify(logs)}\n`));
scenario(...args);

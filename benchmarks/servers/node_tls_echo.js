// TLS echo, Node's tls with socket.pipe(socket): the reference for gnet.tls.
// The certificate and key come from BENCH_TLS_CERT / BENCH_TLS_KEY. argv: PORT
'use strict';
const fs = require('fs');
const tls = require('tls');

const options = {
  key: fs.readFileSync(process.env.BENCH_TLS_KEY),
  cert: fs.readFileSync(process.env.BENCH_TLS_CERT),
};

function onConnection(socket) {
  // The handshake load closes TCP with RST: keep the ECONNRESET from being uncaught.
  socket.on('error', () => {});
  socket.pipe(socket);
}

const server = tls.createServer(options, onConnection);
server.on('tlsClientError', () => {});
server.listen(Number(process.argv[2]), '127.0.0.1', 511, () => {
  console.log(`LISTENING ${server.address().port}`);
});

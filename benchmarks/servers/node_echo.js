// Node's net with socket.pipe(socket): what gnet imitates. argv: PORT [UNIX_PATH]
'use strict';
const net = require('net');

function onConnection(socket) {
  // connrate closes TCP with RST; Node destroys the socket itself, the listener
  // only keeps the ECONNRESET from being an uncaught exception.
  socket.on('error', () => {});
  socket.pipe(socket);
}

const [port, path] = process.argv.slice(2);
let waiting = path ? 2 : 1;
function onListening() {
  waiting -= 1;
  if (waiting === 0) console.log(`LISTENING ${tcp.address().port}`);
}

const tcp = net.createServer(onConnection).listen(Number(port), '127.0.0.1', 511, onListening);
if (path) net.createServer(onConnection).listen(path, 511, onListening);

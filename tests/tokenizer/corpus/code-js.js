'use strict';
const http = require('node:http');

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, `http://${req.headers.host}`);
  if (url.pathname === '/v1/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ ok: true, uptime: process.uptime() }));
  }
  res.statusCode = 404;
  res.end();
});

server.listen(8420, '127.0.0.1', () => console.log('listening on :8420'));
// => arrow, ===, !==, ??=, ||=, &&=, ?.[0], **=, >>>=, ...spread

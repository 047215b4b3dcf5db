// The baseline of `npm run bench:runtime`: the smallest node:http server answering what the benchmark's
// hello function answers, in its own process like the runtime. Reports its URL over IPC; SIGTERM ends it
// through process.exit, so that a `--cpu-prof` profile is written.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HELLO_BODY, HELLO_CONTENT_TYPE } from './runtime-hello.js';

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': HELLO_CONTENT_TYPE, 'content-length': Buffer.byteLength(HELLO_BODY) });
  res.end(HELLO_BODY);
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ url: `http://127.0.0.1:${port}` });
});
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
// The benchmark went away without stopping us (IPC closes with it).
process.once('disconnect', () => process.exit(0));

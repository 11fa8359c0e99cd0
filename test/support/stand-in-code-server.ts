// A stand-in for `dagster code-server start` in the supervisor's tests: listens on the port it is
// given, ignores SIGTERM (as Dagster's code server does for 90 s), starts a child of its own (as a
// code server starts its gRPC worker and runs), and exits when a client sends "crash".
// Usage: node stand-in-code-server.ts <report.json> <port>
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { renameSync, writeFileSync } from 'node:fs';

const [report, port] = process.argv.slice(2) as [string, string];
process.on('SIGTERM', () => undefined);
const worker = spawn('sleep', ['600'], { stdio: 'ignore' });
const server = createServer((socket) => {
  socket.on('data', (data) => {
    if (String(data).includes('crash')) process.exit(3);
  });
});
// Written whole, then renamed into place: the test polls the report, and must never read half of one.
server.listen(Number(port), '127.0.0.1', () => {
  writeFileSync(`${report}.tmp`, JSON.stringify({ pid: process.pid, worker: worker.pid, port: Number(port) }));
  renameSync(`${report}.tmp`, report);
});

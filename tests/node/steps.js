// steps.js - a thin step runner over @grpc/grpc-js, for the Python tests
// (tests/python/test_grpc_node.py). It loads proto/cachewire/v1/cache.proto
// with @grpc/proto-loader (nothing generated, nothing of ours), opens one
// channel, then reads JSON lines on stdin and answers each with one line:
//
//   in:  {"method": "Get", "request": {"key": "<base64>"}, "timeout_ms": 5000}
//   out: {"ok": true, "response": {...}}   bytes as base64, uint64 as strings
//        {"ok": false, "code": 5, "details": "..."}
//
// "service": "health" sends to grpc.health.v1.Health instead (its .proto:
// server/health/health.proto, the published one).
//
// Usage: node steps.js SOURCE_DIR ADDRESS [CA [CERT KEY]]; metadata (a JSON
// object of headers) comes in the environment variable CW_GRPC_METADATA.
'use strict';

const fs = require('fs');
const path = require('path');
const readline = require('readline');
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');

const [source, address, ca, cert, key] = process.argv.slice(2);
const options = {
  keepCase: true, longs: String, enums: String, bytes: String, defaults: true,
};
const load = (dir, file) => grpc.loadPackageDefinition(
  loader.loadSync(path.join(dir, file), { ...options, includeDirs: [dir] }));
const Cache = load(path.join(source, 'proto'), 'cachewire/v1/cache.proto')
  .cachewire.v1.Cache;
const Health = load(path.join(source, 'server/health'), 'health.proto')
  .grpc.health.v1.Health;
const creds = ca
  ? grpc.credentials.createSsl(fs.readFileSync(ca),
      key ? fs.readFileSync(key) : null, cert ? fs.readFileSync(cert) : null)
  : grpc.credentials.createInsecure();
const channelOptions = {
  'grpc.max_receive_message_length': 64 << 20,
  'grpc.max_send_message_length': 64 << 20,
};
const clients = {
  cache: new Cache(address, creds, channelOptions),
  health: new Health(address, creds, channelOptions),
};
const metadata = new grpc.Metadata();
for (const [k, v] of Object.entries(JSON.parse(process.env.CW_GRPC_METADATA || '{}')))
  metadata.set(k, v);

const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const lines = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on('line', (line) => {
  // one call at a time, answered in order
  queue = queue.then(() => new Promise((done) => {
    const step = JSON.parse(line);
    const method = step.method.charAt(0).toLowerCase() + step.method.slice(1);
    const deadline = new Date(Date.now() + (step.timeout_ms || 10000));
    const client = clients[step.service || 'cache'];
    client[method](step.request || {}, metadata, { deadline }, (err, res) => {
      if (err) out({ ok: false, code: err.code, details: err.details || '' });
      else out({ ok: true, response: res });
      done();
    });
  }));
});
lines.on('close', () => queue.then(() => {
  clients.cache.close();
  clients.health.close();
}));

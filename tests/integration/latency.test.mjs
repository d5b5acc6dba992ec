// latency.test.mjs - one client at a time must never wait on a delayed ACK.
//
// A handshake followed by a small echo, one connection after another, over
// loopback. When a small write sits behind Nagle's algorithm until the
// peer's delayed ACK (40 ms on Linux), every such round trip takes more than
// 40 ms; a healthy one takes a few ms, even under AddressSanitizer. The
// bound (20 ms on the median, stretched by TLSD_TEST_SLOW) is far above the
// healthy figure and far below the stall, so it checks the absence of the
// stall, not a speed: speed targets live in bench/.
import assert from 'node:assert/strict';
import {
  test, startTlsd, ecCreds, connectTls, echo, listenTcp, ms,
} from './lib.mjs';

const ROUNDS = 30;
const MEDIAN_BOUND_MS = Math.min(ms(20), 35);
const PAYLOAD = Buffer.alloc(64, 0x61);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

// roundTrips(port, opts): ROUNDS sequential connect + handshake + 64-byte
// echo + close; resolves with the times in ms and how many resumed.
async function roundTrips(port, opts = {}) {
  const times = [];
  let session = null;
  let resumed = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const start = process.hrtime.bigint();
    const s = await connectTls(port, { ...opts.tls, ...(session ? { session } : {}) });
    const got = await echo(s, PAYLOAD);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    assert.equal(got.length, PAYLOAD.length);
    if (s.isSessionReused()) resumed++;
    // The TLS 1.3 tickets came before the echo: the session holds one now.
    if (opts.session) session = s.getSession();
    s.destroy();
  }
  return { times, resumed, median: median(times) };
}

for (const version of ['TLSv1.3', 'TLSv1.2']) {
  test(`${version} handshake + echo, one client at a time: no delayed-ACK stall`, async (t) => {
    const d = await startTlsd({ t, config: ecCreds(), workers: 1 });
    const r = await roundTrips(d.port, { tls: { minVersion: version, maxVersion: version } });
    assert.ok(r.median < MEDIAN_BOUND_MS,
      `median ${r.median.toFixed(1)} ms over ${ROUNDS} round trips (bound ${MEDIAN_BOUND_MS} ms): ` +
      `${r.times.map((x) => x.toFixed(1)).join(' ')}`);
  });

  test(`${version} resumed handshake + echo, one client at a time: no delayed-ACK stall`, async (t) => {
    const d = await startTlsd({ t, config: ecCreds(), workers: 1 });
    const r = await roundTrips(d.port, { session: true, tls: { minVersion: version, maxVersion: version } });
    assert.ok(r.resumed >= ROUNDS - 2, `resumed ${r.resumed} of ${ROUNDS}`);
    assert.ok(r.median < MEDIAN_BOUND_MS,
      `median ${r.median.toFixed(1)} ms over ${ROUNDS} resumed round trips (bound ${MEDIAN_BOUND_MS} ms): ` +
      `${r.times.map((x) => x.toFixed(1)).join(' ')}`);
  });
}

test('backend mode: first echo through the backend, one client at a time: no delayed-ACK stall', async (t) => {
  // The backend skips the PROXY v2 header (16 bytes + the length in bytes
  // 14-15), then echoes in small separate writes, as an application would.
  const backend = await listenTcp((sock) => {
    let pending = Buffer.alloc(0);
    let headerLeft = -1;
    sock.setNoDelay(true);
    sock.on('data', (c) => {
      pending = Buffer.concat([pending, c]);
      if (headerLeft < 0 && pending.length >= 16) headerLeft = 16 + pending.readUInt16BE(14);
      if (headerLeft < 0) return;
      const skip = Math.min(headerLeft, pending.length);
      headerLeft -= skip;
      pending = pending.subarray(skip);
      if (headerLeft > 0) return;
      for (let i = 0; i < pending.length; i += 16) sock.write(pending.subarray(i, i + 16));
      pending = Buffer.alloc(0);
    });
  });
  t.after(() => backend.close());
  const d = await startTlsd({
    t,
    config: { ...ecCreds(), backend: `127.0.0.1:${backend.port}`, proxyProtocol: 'v2' },
    workers: 1,
  });
  const r = await roundTrips(d.port, { tls: { minVersion: 'TLSv1.3' } });
  assert.ok(r.median < MEDIAN_BOUND_MS,
    `median ${r.median.toFixed(1)} ms over ${ROUNDS} round trips (bound ${MEDIAN_BOUND_MS} ms): ` +
    `${r.times.map((x) => x.toFixed(1)).join(' ')}`);
});

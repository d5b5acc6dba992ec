// flow.test.mjs - backpressure: a client that writes without reading must
// not make tlsd buffer without bound.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  test, startTlsd, rsaCreds, echo, readBytes, rssKiB, listenTcp, withTimeout, sleep, ms,
} from './lib.mjs';

const TOTAL = 64 << 20;
const CHUNK = 64 << 10;
const GROWTH_LIMIT_KIB = 8 * 1024;

// Under AddressSanitizer freed memory sits in a quarantine, which would show
// as RSS growth however bounded tlsd's buffers are; turn it off here.
const env = {
  ASAN_OPTIONS: [process.env.ASAN_OPTIONS, 'quarantine_size_mb=0'].filter(Boolean).join(':'),
};

function workersRss(d) {
  return d.workerPids().reduce((sum, p) => sum + rssKiB(p), 0);
}

// drainOrStall(sock, ms): true if 'drain' came, false if ms passed first.
function drainOrStall(sock, timeout) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      sock.removeListener('drain', onDrain);
      resolve(false);
    }, timeout);
    const onDrain = () => {
      clearTimeout(timer);
      resolve(true);
    };
    sock.once('drain', onDrain);
  });
}

// slowReader(d, sock, peer): writes TOTAL bytes to sock without reading
// until the writes stall, checks memory, then reads everything from peer
// (the socket the bytes come back on) and compares hashes.
async function slowReader(d, sock, readFrom) {
  const hashOut = crypto.createHash('sha256');
  const hashIn = crypto.createHash('sha256');
  let received = 0;
  readFrom.pause();
  await sleep(50); // let the warm-up settle before the baseline
  const base = workersRss(d);
  let peak = base;
  let written = 0;
  let stalledAt = -1;
  while (written < TOTAL) {
    const chunk = crypto.randomBytes(CHUNK);
    hashOut.update(chunk);
    written += chunk.length;
    const ok = sock.write(chunk);
    peak = Math.max(peak, workersRss(d));
    if (!ok && !(await drainOrStall(sock, ms(1000)))) {
      stalledAt = written;
      break;
    }
  }
  peak = Math.max(peak, workersRss(d));
  assert.ok(stalledAt > 0, `the writer got backpressure (wrote all ${TOTAL} bytes without a stall)`);
  assert.ok(stalledAt < TOTAL, 'stalled before the end');
  assert.ok(sock.writableLength > 0, 'data is waiting in the client, not in tlsd');
  const growth = peak - base;
  assert.ok(growth < GROWTH_LIMIT_KIB,
    `worker RSS grew by ${growth} KiB (base ${base} KiB, peak ${peak} KiB) with ${stalledAt} bytes in flight`);

  // Now read everything and finish writing; every byte must arrive intact.
  const done = new Promise((resolve, reject) => {
    readFrom.on('data', (c) => {
      hashIn.update(c);
      received += c.length;
      if (received >= TOTAL) resolve();
    });
    readFrom.once('close', () => reject(new Error(`closed after ${received} of ${TOTAL} bytes`)));
  });
  readFrom.resume();
  while (written < TOTAL) {
    const chunk = crypto.randomBytes(CHUNK);
    hashOut.update(chunk);
    written += chunk.length;
    if (!sock.write(chunk)) await new Promise((r) => sock.once('drain', r));
  }
  await withTimeout(done, ms(15000), `all ${TOTAL} bytes to come back`).catch((e) => {
    throw new Error(`${e.message}: only ${received} came back`);
  });
  assert.equal(received, TOTAL);
  assert.equal(hashIn.digest('hex'), hashOut.digest('hex'), 'every byte arrived, in order');
  return { stalledAt, growth };
}

test('echo mode: a client that does not read gets backpressure, tlsd memory stays flat', async (t) => {
  const d = await startTlsd({ t, config: rsaCreds(), workers: 2, env });
  const s = await d.connect();
  await echo(s, crypto.randomBytes(256 << 10)); // allocate the buffers first
  const r = await slowReader(d, s, s);
  t.diagnostic(`stalled after ${r.stalledAt} bytes, worker RSS growth ${r.growth} KiB`);
  s.destroy();
});

test('backend mode: a backend that does not read gets tlsd to stop reading the client', async (t) => {
  let resolveSock;
  const gotSock = new Promise((r) => (resolveSock = r));
  const be = await listenTcp((sock) => resolveSock(sock));
  t.after(() => be.close());
  const d = await startTlsd({ t, config: rsaCreds(), args: ['--backend', `127.0.0.1:${be.port}`], workers: 2, env });
  const s = await d.connect();
  s.write('hi');
  const bs = await withTimeout(gotSock, ms(3000), 'tlsd to connect to the backend');
  assert.equal((await readBytes(bs, 2)).toString(), 'hi');
  // client -> tlsd -> backend that does not read
  const r = await slowReader(d, s, bs);
  t.diagnostic(`stalled after ${r.stalledAt} bytes, worker RSS growth ${r.growth} KiB`);
  s.destroy();
});

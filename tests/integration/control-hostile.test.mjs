// control-hostile.test.mjs - the control endpoint under hostile clients:
// connection bursts at the limit, half-sent requests that trickle or just
// sit, and request smuggling shapes (Content-Length with Transfer-Encoding,
// two Content-Lengths, an unauthenticated upload). Every client is
// 127.0.0.1, like any client of a loopback-only endpoint.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { test, startTlsd, sleep, waitFor, ms } from './lib.mjs';

// Fixed in ctl/control.c: a connection gets this long to deliver a request.
const DEADLINE_MS = 10000;

function controlPort(d) {
  return Number(/:(\d+)$/.exec(d.control)[1]);
}

// exchange(port, text, timeout): writes <text>, collects everything until
// the server closes (or <timeout>); resolves {data, closed}.
function exchange(port, text, timeout) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let data = '';
    const done = (closed) => {
      clearTimeout(timer);
      s.destroy();
      resolve({ data, closed });
    };
    const timer = setTimeout(() => done(false), timeout);
    s.on('connect', () => s.write(text));
    s.on('data', (b) => { data += b.toString('latin1'); });
    s.on('error', () => {});
    s.on('close', () => done(true));
  });
}

// healthz(port, timeout): true when GET /healthz answers 200 in time.
async function healthz(port, timeout = ms(2000)) {
  const r = await exchange(port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n', timeout);
  return r.data.startsWith('HTTP/1.1 200');
}

// openMany(port, n, first): n sockets, each sending <first> once connected;
// each records when it connected and when the server closed it.
function openMany(port, n, first) {
  const socks = [];
  for (let i = 0; i < n; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.info = { connectedAt: null, closedAt: null };
    s.on('connect', () => {
      s.info.connectedAt = Date.now();
      if (first) s.write(first);
    });
    s.on('data', () => {});
    s.on('error', () => {});
    s.on('close', () => { s.info.closedAt = Date.now(); });
    socks.push(s);
  }
  return socks;
}

const UPLOAD = 200 * 1024 * 1024;

// upload(port, waitMs): POST a chunked UPLOAD-byte body without a token,
// starting the body <waitMs> after the headers; stops at an answer or when
// the server ends the connection. Resolves {reply, sentAtReply, sent, ended}.
async function upload(port, waitMs) {
  const chunk = Buffer.concat([Buffer.from('100000\r\n'), Buffer.alloc(0x100000, 0x61), Buffer.from('\r\n')]);
  const s = net.connect(port, '127.0.0.1');
  const r = { reply: '', sentAtReply: null, sent: 0, ended: false };
  s.on('error', () => { r.ended = true; });
  s.on('close', () => { r.ended = true; });
  s.on('data', (b) => {
    r.reply += b.toString('latin1');
    if (r.sentAtReply === null) r.sentAtReply = r.sent;
  });
  await new Promise((resolve) => s.on('connect', resolve));
  s.write('POST /v1/ticket-keys/rotate HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n');
  await sleep(waitMs);
  const deadline = Date.now() + ms(20000);
  while (r.sent < UPLOAD && r.sentAtReply === null && !r.ended && Date.now() < deadline) {
    r.sent += 0x100000;
    if (!s.write(chunk)) await Promise.race([new Promise((resolve) => s.once('drain', resolve)), sleep(200)]);
  }
  await waitFor(() => r.sentAtReply !== null || r.ended, ms(5000), 'an answer to the upload').catch(() => {});
  s.destroy();
  return r;
}

const statusLines = (data) => data.match(/HTTP\/1\.[01] \d{3}/g) || [];

test('bursts of 800 connections at the limit leave /healthz answering', { timeout: ms(60000) }, async (t) => {
  const d = await startTlsd({ t, args: ['--demo'], control: true, workers: 1 });
  const port = controlPort(d);
  for (let round = 1; round <= 3; round++) {
    const socks = openMany(port, 800);
    await sleep(1000);
    for (const s of socks) s.destroy();
    const start = Date.now();
    await waitFor(() => healthz(port, ms(1000)), ms(5000), `/healthz after burst round ${round}`);
    t.diagnostic(`round ${round}: /healthz answered ${Date.now() - start} ms after the burst closed`);
  }

  // accept() failing for want of descriptors, while connections are open,
  // takes the listening socket out of libmicrohttpd's epoll set too.
  const pid = d.readyPid;
  const soft = (n) => execFileSync('prlimit', ['--pid', String(pid), `--nofile=${n}:`]);
  const was = Number(execFileSync('prlimit', ['--pid', String(pid), '--nofile', '-o', 'SOFT', '--noheadings']));
  const used = new Set(fs.readdirSync(`/proc/${pid}/fd`).map(Number));
  let limit = 0;
  for (let free = 0; free < 6; limit++) if (!used.has(limit)) free++;
  soft(limit); // room for 6 more descriptors
  let socks;
  try {
    socks = openMany(port, 40);
    await sleep(1000);
    for (const s of socks) s.destroy();
    await sleep(300);
  } finally {
    soft(was);
  }
  const start = Date.now();
  await waitFor(() => healthz(port, ms(1000)), ms(5000), '/healthz after accept() ran out of descriptors');
  t.diagnostic(`out of descriptors: /healthz answered ${Date.now() - start} ms after the burst closed`);
});

test('half-sent requests are cut at the deadline; /healthz answers while they are held',
  { timeout: ms(60000) }, async (t) => {
    const d = await startTlsd({ t, args: ['--demo'], control: true, workers: 1 });
    const port = controlPort(d);
    const partial = 'GET /v1/stats HTTP/1.1\r\nHost: localhost\r\n';

    const tricklers = openMany(port, 64, partial);
    const trickle = setInterval(() => {
      for (const s of tricklers) if (!s.destroyed && s.writable) s.write('X');
    }, 1000);
    t.after(() => clearInterval(trickle));
    await waitFor(() => tricklers.every((s) => s.info.connectedAt), ms(3000), 'the tricklers connected');
    for (const at of [1500, 4000]) {
      await sleep(at - (Date.now() - tricklers[0].info.connectedAt));
      const held = tricklers.filter((s) => !s.info.closedAt).length;
      const t0 = Date.now();
      assert.ok(await healthz(port), `/healthz answers with ${held} trickling connections held`);
      t.diagnostic(`/healthz answered in ${Date.now() - t0} ms with ${held} tricklers held`);
      assert.ok(held >= 16, `tricklers held: ${held}`);
    }
    await waitFor(() => tricklers.every((s) => s.info.closedAt), DEADLINE_MS + ms(5000),
      'the server to cut every trickler');
    const lives = tricklers.map((s) => s.info.closedAt - s.info.connectedAt);
    const longest = Math.max(...lives);
    t.diagnostic(`tricklers cut after at most ${longest} ms`);
    assert.ok(longest >= DEADLINE_MS - 1000, `a held trickler lasted the deadline: ${longest} ms`);
    assert.ok(longest <= DEADLINE_MS + ms(3000), `cut at the deadline, not later: ${longest} ms`);
    clearInterval(trickle);

    const sitters = openMany(port, 200, partial);
    await sleep(1000);
    const t0 = Date.now();
    assert.ok(await healthz(port), '/healthz answers with 200 half-sent requests sitting');
    t.diagnostic(`/healthz answered in ${Date.now() - t0} ms with 200 sitters`);
    for (const s of sitters) s.destroy();
  });

test('smuggling shapes get 400 and a closed connection; an unauthenticated body is refused unread',
  { timeout: ms(60000) }, async (t) => {
    const d = await startTlsd({ t, args: ['--demo'], control: true, workers: 1 });
    const port = controlPort(d);
    const auth = `Authorization: Bearer ${d.token()}\r\n`;
    const second = 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n';

    const both = await exchange(port, `GET /v1/stats HTTP/1.1\r\nHost: localhost\r\n${auth}` +
      `Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${second}`, ms(3000));
    assert.deepEqual(statusLines(both.data), ['HTTP/1.1 400'], both.data);
    assert.ok(both.closed, 'Content-Length with Transfer-Encoding: connection closed');

    const body = 'xxxxx' + second;
    const two = await exchange(port, `GET /v1/stats HTTP/1.1\r\nHost: localhost\r\n${auth}` +
      `Content-Length: 5\r\nContent-Length: ${body.length}\r\n\r\n${body}`, ms(3000));
    assert.deepEqual(statusLines(two.data), ['HTTP/1.1 400'], two.data);
    assert.ok(two.closed, 'two Content-Lengths: connection closed');

    // 200 MiB chunked without a token: the 401 comes before the body. A
    // client that waits a moment for an early answer (as curl does for
    // large bodies) reads it having sent nothing; one that streams at once
    // is cut off after what the socket buffers hold.
    const polite = await upload(port, 500);
    t.diagnostic(`waiting client: ${polite.reply.slice(0, 12)} after ${polite.sentAtReply} body bytes`);
    assert.match(polite.reply, /^HTTP\/1\.1 401/, polite.reply.slice(0, 200));
    assert.equal(polite.sentAtReply, 0);
    const eager = await upload(port, 0);
    t.diagnostic(`streaming client: answered or cut after ${eager.sent} body bytes (of ${UPLOAD})`);
    assert.ok(eager.ended || eager.sentAtReply !== null, 'the streaming client was answered or cut');
    assert.ok(eager.sent < 32 * 1024 * 1024, `body written before the end: ${eager.sent}`);
  });

// sni-metrics.test.mjs - counts by SNI context: /metrics tlsd_sni_* and
// /v1/stats "contexts", exact per hostname after known traffic (full,
// ticket and session-ID handshakes, TLS 1.2 and 1.3) to two
// contexts, an unknown name, no name and clients that are not TLS; a
// context removed while another takes its table slot keeps its own counts;
// past 64 hostnames the rest count as "other"; a SIGHUP reload names a new
// config context and keeps the counts; a killed worker's open connection
// leaves its context's current count.
import assert from 'node:assert/strict';
import { constants as cryptoConstants } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  test, startTlsd, ecCreds, fixture, readFixture, connectTcp, echo, waitClose, waitFor, sessionFrom,
  resumedWith, haveTool, tmpdir, ms,
} from './lib.mjs';

const A = { key: readFixture('sni-a-key.pem').toString(), cert: readFixture('sni-a-cert.pem').toString() };
const RSA = { key: readFixture('rsa-key.pem').toString(), cert: readFixture('rsa-cert.pem').toString() };
const TLS12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' };
const RESULTS = ['full', 'resumed_session_id', 'resumed_ticket', 'failed', 'timeout'];

async function stats(d) {
  const r = await d.api('GET', '/v1/stats');
  assert.equal(r.status, 200, r.text);
  return r.json;
}

// sniMetrics(d): {hostname: {full, ..., timeout, in, out, current}} from the
// tlsd_sni_* families of /metrics (checked by promtool where installed),
// and the hostnames in the order the text lists them.
async function sniMetrics(d) {
  const r = await d.api('GET', '/metrics');
  assert.equal(r.status, 200, r.text);
  if (haveTool('promtool')) {
    const p = spawnSync('promtool', ['check', 'metrics'], { input: r.text, encoding: 'utf8' });
    assert.equal(p.status, 0, `promtool check metrics:\n${p.stdout}${p.stderr}`);
  }
  const by = {};
  const order = [];
  const line = /^tlsd_sni_(handshakes_total|bytes_received_total|bytes_sent_total|connections_current)\{hostname="([^"]*)"(?:,result="([a-z_]+)")?\} (\d+)$/;
  for (const l of r.text.split('\n')) {
    if (!l.startsWith('tlsd_sni_')) continue;
    const m = line.exec(l);
    assert.ok(m, `a tlsd_sni_ sample: ${l}`);
    const [, family, host, result, value] = m;
    if (!by[host]) {
      by[host] = {};
      order.push(host);
    }
    const key = { handshakes_total: result, bytes_received_total: 'in', bytes_sent_total: 'out',
      connections_current: 'current' }[family];
    assert.equal(by[host][key], undefined, `${l}: once`);
    by[host][key] = Number(value);
  }
  for (const t of ['# TYPE tlsd_sni_handshakes_total counter', '# TYPE tlsd_sni_bytes_received_total counter',
    '# TYPE tlsd_sni_bytes_sent_total counter', '# TYPE tlsd_sni_connections_current gauge']) {
    assert.ok(r.text.includes(`\n${t}\n`), t);
  }
  return { by, order };
}

// fromStats(s): the same shape from /v1/stats "contexts".
function fromStats(s) {
  const by = {};
  for (const c of s.contexts) {
    assert.equal(c.handshakes.resumed, c.handshakes.resumed_session_id + c.handshakes.resumed_ticket);
    by[c.hostname] = { ...Object.fromEntries(RESULTS.map((r) => [r, c.handshakes[r]])),
      in: c.bytes.in, out: c.bytes.out, current: c.connections.current };
  }
  return { by, order: s.contexts.map((c) => c.hostname) };
}

const zero = () => ({ full: 0, resumed_session_id: 0, resumed_ticket: 0, failed: 0, timeout: 0, in: 0, out: 0,
  current: 0 });
const figures = (o) => ({ ...zero(), ...o });

// assertCounts(d, expect, order): /metrics and /v1/stats both say exactly
// <expect> ({hostname: partial figures}) for the hostnames of <order>, in
// that order.
async function assertCounts(d, expect, order) {
  const want = Object.fromEntries(order.map((h) => [h, figures(expect[h])]));
  const m = await sniMetrics(d);
  assert.deepEqual(m.order, order, '/metrics: the series');
  assert.deepEqual(m.by, want, '/metrics');
  const s = fromStats(await stats(d));
  assert.deepEqual(s.order, order, '/v1/stats: the series');
  assert.deepEqual(s.by, want, '/v1/stats');
}

// echoOnce(d, servername, text): one TLS connection that echoes <text>;
// servername '' sends none.
async function echoOnce(d, servername, text, opts = {}) {
  const s = await d.connect({ servername, ...opts });
  assert.equal((await echo(s, text)).toString(), text);
  s.end();
  await waitClose(s);
}

const finished = (d) => d.logs.filter((r) => r.event === 'close' || r.event === 'clientError').length;

test('per-context counts: two contexts, an unknown name, no name, failures before any name', async (t) => {
  const d = await startTlsd({ t, config: { ...ecCreds(), handshakeTimeout: 400, contexts: [
    { hostname: 'a.example.com', key: fixture('sni-a-key.pem'), cert: fixture('sni-a-cert.pem') },
    { hostname: '*.b.example.com', key: fixture('rsa-key.pem'), cert: fixture('rsa-cert.pem') },
  ] }, control: true, workers: 2 });
  await d.waitWorkers(2);
  const order = ['a.example.com', '*.b.example.com', '*', 'other'];
  await assertCounts(d, {}, order);
  const start = finished(d);

  for (let i = 0; i < 3; i++) await echoOnce(d, 'a.example.com', 'hello');
  await echoOnce(d, 'A.Example.COM', 'hi', TLS12);
  // A ticket from *.b.example.com, then two resumptions by it.
  const ticket = await sessionFrom(d.port, { ...TLS12, servername: 'x.b.example.com' });
  for (let i = 0; i < 2; i++) {
    assert.ok(await resumedWith(d.port, ticket, { ...TLS12, servername: 'x.b.example.com' }));
  }
  await echoOnce(d, 'y.b.example.com', 'abcdefg');
  // TLS 1.3: a ticket from a.example.com, one resumption by it.
  const ticket13 = await sessionFrom(d.port, { minVersion: 'TLSv1.3', servername: 'a.example.com' });
  assert.ok(await resumedWith(d.port, ticket13, { minVersion: 'TLSv1.3', servername: 'a.example.com' }));
  // TLS 1.2 without tickets to a name no context has, then a session-ID resumption.
  const noTicket = { ...TLS12, secureOptions: cryptoConstants.SSL_OP_NO_TICKET, servername: 'c.example.org' };
  const first = await d.connect(noTicket);
  const idSession = first.getSession();
  first.end();
  // GnuTLS stores the session after its last flight: wait for the close.
  await waitFor(() => finished(d) >= start + 11, ms(5000), 'the session stored');
  const again = await d.connect({ ...noTicket, session: idSession });
  assert.ok(again.isSessionReused(), 'session ID resumed');
  again.end();
  await echoOnce(d, 'c.example.org', 'abc');
  await echoOnce(d, '', 'x');
  await echoOnce(d, 'localhost', 'xy');
  // A name and then no cipher the certificate (ECDSA) can use: failed, for a.example.com.
  await assert.rejects(d.connect({ ...TLS12, servername: 'a.example.com', ciphers: 'AES128-GCM-SHA256' }));
  // Not TLS, and silent until the timeout: no name read, only in the totals.
  const junk = await connectTcp(d.port);
  junk.write('GET / HTTP/1.0\r\n\r\n');
  await waitClose(junk);
  await waitClose(await connectTcp(d.port), ms(5000));
  await waitFor(() => finished(d) >= start + 17, ms(5000), '17 close/clientError lines');

  const expect = {
    'a.example.com': { full: 5, resumed_ticket: 1, failed: 1, in: 17, out: 17 },
    '*.b.example.com': { full: 2, resumed_ticket: 2, in: 7, out: 7 },
    '*': { full: 1, in: 1, out: 1 },
    other: { full: 3, resumed_session_id: 1, in: 5, out: 5 },
  };
  await assertCounts(d, expect, order);
  const s = await stats(d);
  assert.equal(s.handshakes.failed, 2, 'the totals: the failed one and the one that is not TLS');
  assert.equal(s.handshakes.timeout, 1);

  // An open connection counts as current for its context until it closes.
  const open = await d.connect({ servername: 'z.b.example.com' });
  assert.equal((await echo(open, 'open')).toString(), 'open');
  expect['*.b.example.com'] = { ...expect['*.b.example.com'], full: 3, in: 11, out: 11, current: 1 };
  await assertCounts(d, expect, order);
  open.end();
  await waitClose(open);
  await waitFor(async () => fromStats(await stats(d)).by['*.b.example.com'].current === 0, ms(5000),
    'the connection closed');
  expect['*.b.example.com'].current = 0;
  await assertCounts(d, expect, order);
});

test('a removed context keeps its series; one that takes its table slot gets its own; re-added, it counts on',
  async (t) => {
    const d = await startTlsd({ t, config: { ...ecCreds(), contexts: [
      { hostname: 'a.example.com', key: fixture('sni-a-key.pem'), cert: fixture('sni-a-cert.pem') },
    ] }, control: true, workers: 2 });
    await d.waitWorkers(2);
    for (let i = 0; i < 2; i++) await echoOnce(d, 'a.example.com', 'aa');
    const expect = { 'a.example.com': { full: 2, in: 4, out: 4 } };
    await assertCounts(d, expect, ['a.example.com', '*', 'other']);

    assert.equal((await d.api('DELETE', '/v1/contexts/a.example.com')).status, 204);
    // c.example.org takes the slot a.example.com left in the shared table.
    const r = await d.api('POST', '/v1/contexts', { body: { hostname: 'c.example.org', ...RSA } });
    assert.equal(r.status, 201, r.text);
    const order = ['a.example.com', 'c.example.org', '*', 'other'];
    await assertCounts(d, expect, order);
    for (let i = 0; i < 3; i++) await echoOnce(d, 'c.example.org', 'ccc');
    await echoOnce(d, 'a.example.com', 'a');	// no context now: other
    expect['c.example.org'] = { full: 3, in: 9, out: 9 };
    expect.other = { full: 1, in: 1, out: 1 };
    await assertCounts(d, expect, order);

    assert.equal((await d.api('POST', '/v1/contexts', { body: { hostname: 'a.example.com', ...A } })).status, 201);
    await echoOnce(d, 'a.example.com', 'again');
    expect['a.example.com'] = { full: 3, in: 9, out: 9 };
    await assertCounts(d, expect, order);
  });

test('past 64 hostnames, the next contexts count as other', async (t) => {
  const contexts = [];
  for (let i = 0; i < 66; i++) {
    contexts.push({ hostname: `h${i}.example.com`, key: fixture('sni-a-key.pem'), cert: fixture('sni-a-cert.pem') });
  }
  const d = await startTlsd({ t, config: { ...ecCreds(), contexts }, control: true, workers: 1 });
  await echoOnce(d, 'h0.example.com', 'zero');
  await echoOnce(d, 'h63.example.com', 'last');
  await echoOnce(d, 'h64.example.com', 'over');
  await echoOnce(d, 'h65.example.com', 'over');
  const order = [...contexts.slice(0, 64).map((c) => c.hostname), '*', 'other'];
  await assertCounts(d, {
    'h0.example.com': { full: 1, in: 4, out: 4 },
    'h63.example.com': { full: 1, in: 4, out: 4 },
    other: { full: 2, in: 8, out: 8 },
  }, order);
  // The 65th and 66th are served all the same.
  const s = await d.connect({ servername: 'h65.example.com' });
  assert.equal(s.getPeerCertificate().subject.CN, 'a.example.com');
  s.destroy();
});

test('SIGHUP: a new config context gets its series, the others count on; a killed worker leaves current',
  async (t) => {
    const file = path.join(tmpdir(), 'tlsd.json');
    const a = { hostname: 'a.example.com', key: fixture('sni-a-key.pem'), cert: fixture('sni-a-cert.pem') };
    fs.writeFileSync(file, JSON.stringify({ ...ecCreds(), contexts: [a] }));
    const d = await startTlsd({ t, config: file, control: true, workers: 2 });
    const before = await d.waitWorkers(2);
    await echoOnce(d, 'a.example.com', 'aa');
    const held = await d.connect({ servername: 'a.example.com' });
    assert.equal((await echo(held, 'held')).toString(), 'held');
    const expect = { 'a.example.com': { full: 2, in: 6, out: 6, current: 1 } };
    await assertCounts(d, expect, ['a.example.com', '*', 'other']);

    fs.writeFileSync(file, JSON.stringify({ ...ecCreds(), contexts: [
      { hostname: 'd.example.net', key: fixture('rsa-key.pem'), cert: fixture('rsa-cert.pem') }, a] }));
    const from = d.stderr.length;
    d.signal('SIGHUP');
    await waitFor(() => /configuration reloaded/.test(d.stderr.slice(from)), ms(10000), 'the reload');
    const order = ['a.example.com', 'd.example.net', '*', 'other'];
    await assertCounts(d, expect, order);
    await echoOnce(d, 'd.example.net', 'ddd');
    await echoOnce(d, 'a.example.com', 'a');
    expect['d.example.net'] = { full: 1, in: 3, out: 3 };
    expect['a.example.com'] = { full: 3, in: 7, out: 7, current: 1 };
    await assertCounts(d, expect, order);
    held.end();
    await waitFor(() => d.workerPids().length === 2 && d.workerPids().every((p) => !before.includes(p)),
      ms(10000), 'the old workers to exit');
    expect['a.example.com'].current = 0;
    await assertCounts(d, expect, order);

    const open = await d.connect({ servername: 'd.example.net' });
    assert.equal((await echo(open, 'x')).toString(), 'x');
    expect['d.example.net'] = { full: 2, in: 4, out: 4, current: 1 };
    await assertCounts(d, expect, order);
    process.kill(d.ownerOf(open), 'SIGKILL');
    await waitFor(async () => fromStats(await stats(d)).by['d.example.net'].current === 0, ms(5000),
      'the dead worker\'s connection gone from current');
    expect['d.example.net'].current = 0;
    await assertCounts(d, expect, order);
  });

// backend-health.test.mjs - is the backend reachable: /healthz?backend=1,
// /v1/stats backend, the connect metrics, and warn lines a down backend
// does not flood.
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  test, startTlsd, rsaCreds, listenTcp, closedPort, readBytes, readUntilEnd, waitFor, ms,
} from './lib.mjs';

// metric(text, name): the value of the sample <name> (with its labels).
function metric(text, name) {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line, `metric ${name} in /metrics`);
  return Number(line.slice(name.length + 1));
}

// tryThrough(d): one client connection that the backend cannot serve:
// resolves once tlsd closed it.
async function tryThrough(d) {
  let s;
  try {
    s = await d.connect();
  } catch {
    return;
  }
  s.on('error', () => {});
  await readUntilEnd(s, ms(5000)).catch(() => {});
  s.destroy();
}

// echoBackend(port): an echo server on 127.0.0.1:<port> (0: any free one).
async function echoBackend(port = 0) {
  if (port === 0) return listenTcp((sock) => sock.pipe(sock));
  const socks = new Set();
  const server = net.createServer((s) => {
    socks.add(s);
    s.on('close', () => socks.delete(s));
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return {
    server,
    port,
    close: () => new Promise((r) => {
      for (const s of socks) s.destroy();
      server.close(() => r());
    }),
  };
}

test('a refused backend: /healthz?backend=1 is 503 naming it, plain /healthz stays 200', async (t) => {
  const port = await closedPort();
  const d = await startTlsd({ t, control: true, config: rsaCreds(), args: ['--backend', `127.0.0.1:${port}`], workers: 1 });
  // Before the first check: 503 too, saying so. The master checks at
  // start: no client needed for the answer.
  const first = await d.api('GET', '/healthz?backend=1', { token: false });
  assert.equal(first.status, 503);
  assert.match(first.text, /unreachable|not checked yet/);
  await waitFor(async () => /unreachable/.test((await d.api('GET', '/healthz?backend=1', { token: false })).text),
    ms(3000), 'the backend check');
  const r = await d.api('GET', '/healthz?backend=1', { token: false });
  assert.match(r.text, new RegExp(`unhealthy: backend 127\\.0\\.0\\.1:${port}: unreachable: Connection refused`));
  assert.equal((await d.api('GET', '/healthz', { token: false })).status, 200);
  assert.equal((await d.api('GET', '/healthz?backend=0', { token: false })).status, 200);
  const m = (await d.api('GET', '/metrics')).text;
  assert.equal(metric(m, 'tlsd_backend_up'), 0);
  assert.equal((await d.api('GET', '/v1/stats')).json.backend.reachable, false);
});

test('connect failures are counted by reason and logged once per 10 s, not once per client', async (t) => {
  const port = await closedPort();
  const d = await startTlsd({ t, control: true, config: rsaCreds(), args: ['--backend', `127.0.0.1:${port}`], workers: 1 });
  for (let i = 0; i < 6; i++) await tryThrough(d);
  await waitFor(() => d.closeLogs().filter((x) => x.closeReason === 'backend-connect-failed').length === 6,
    ms(5000), 'six closes');
  const st = (await d.api('GET', '/v1/stats')).json.backend;
  assert.deepEqual(st.connect_failures, { refused: 6, timeout: 0, unreachable: 0, error: 0 });
  assert.equal(st.connects, 0);
  const m = (await d.api('GET', '/metrics')).text;
  assert.equal(metric(m, 'tlsd_backend_connect_failures_total{reason="refused"}'), 6);
  assert.equal(metric(m, 'tlsd_backend_connect_failures_total{reason="timeout"}'), 0);
  assert.equal(metric(m, 'tlsd_backend_connect_duration_seconds_count'), 0);
  const lines = d.stderr.split('\n').filter((l) => /backend 127\.0\.0\.1:\d+: connect: Connection refused/.test(l));
  assert.equal(lines.length, 1, `one warn line for six failures, got:\n${lines.join('\n')}`);
  assert.match(lines[0], /warn/i);
});

test('a backend that comes up turns /healthz?backend=1 to 200 with no client traffic', async (t) => {
  const port = await closedPort();
  const d = await startTlsd({ t, control: true, config: rsaCreds(), args: ['--backend', `127.0.0.1:${port}`], workers: 1 });
  await waitFor(async () => /unreachable/.test((await d.api('GET', '/healthz?backend=1', { token: false })).text),
    ms(3000), 'unreachable first');
  assert.match(d.stderr, /unreachable: Connection refused \(the master's connect check/);
  const be = await echoBackend(port);
  t.after(() => be.close());
  // Checked every 2 s.
  await waitFor(async () => (await d.api('GET', '/healthz?backend=1', { token: false })).status === 200,
    ms(5000), 'reachable after the next check');
  await waitFor(() => /backend 127\.0\.0\.1:\d+: reachable again/.test(d.stderr), ms(2000), 'the reachable line');
  // One unreachable line for the whole outage, however many checks failed.
  assert.equal(d.stderr.split('\n').filter((l) => /unreachable: Connection refused \(the master/.test(l)).length, 1);
});

test('connects that work: counted, timed, reachable; a backend that goes away turns it 503', async (t) => {
  const be = await echoBackend();
  const d = await startTlsd({ t, control: true, config: rsaCreds(), args: ['--backend', `127.0.0.1:${be.port}`], workers: 2 });
  for (let i = 0; i < 4; i++) {
    const s = await d.connect();
    s.write('ping');
    assert.equal((await readBytes(s, 4)).toString(), 'ping');
    s.destroy();
  }
  await waitFor(async () => (await d.api('GET', '/v1/stats')).json.backend.connects === 4, ms(3000), '4 connects');
  const st = (await d.api('GET', '/v1/stats')).json.backend;
  assert.equal(st.reachable, true);
  const m = (await d.api('GET', '/metrics')).text;
  assert.equal(metric(m, 'tlsd_backend_connect_duration_seconds_count'), 4);
  assert.equal(metric(m, 'tlsd_backend_connect_duration_seconds_bucket{le="+Inf"}'), 4);
  assert.ok(metric(m, 'tlsd_backend_connect_duration_seconds_sum') > 0);
  assert.equal(metric(m, 'tlsd_backend_up'), 1);
  assert.equal((await d.api('GET', '/healthz?backend=1', { token: false })).status, 200);
  // The backend goes: a client's failed connect says so at once.
  await be.close();
  await tryThrough(d);
  const r = await d.api('GET', '/healthz?backend=1', { token: false });
  assert.equal(r.status, 503);
  assert.match(r.text, /unreachable: Connection refused, [0-9.]+ s ago \((a client's connect|the master's connect check)\)/);
});

test('echo mode: /healthz?backend=1 has no backend to check and answers as /healthz', async (t) => {
  const d = await startTlsd({ t, control: true, config: rsaCreds(), workers: 1 });
  assert.equal((await d.api('GET', '/healthz?backend=1', { token: false })).status, 200);
  const st = (await d.api('GET', '/v1/stats')).json.backend;
  assert.equal(st.reachable, null);
  assert.doesNotMatch((await d.api('GET', '/metrics')).text, /tlsd_backend_up/);
});

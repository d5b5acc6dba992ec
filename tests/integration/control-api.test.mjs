// control-api.test.mjs - the control endpoint, driven with curl: the gate
// (token, Origin, Host, sizes), ticket keys replaced and rotated at runtime
// across every worker, exact stats, maxConnections at runtime, address,
// graceful close, the unix socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  startTlsd, ecCreds, connectTls, echo, sessionFrom, resumedWith, knownTraffic, waitFor, tmpdir, ms,
} from './lib.mjs';

const b64 = (n) => crypto.randomBytes(n).toString('base64');
const TLS12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' };
const TLS13 = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' };

const PROTECTED = [
  ['GET', '/v1/stats'], ['GET', '/v1/ticket-keys'], ['PUT', '/v1/ticket-keys'],
  ['POST', '/v1/ticket-keys/rotate'], ['GET', '/v1/address'], ['GET', '/v1/max-connections'],
  ['PUT', '/v1/max-connections'], ['POST', '/v1/close'],
];

function assertError(r, status, code, message) {
  assert.equal(r.status, status, `status of ${r.text}`);
  assert.equal(r.json?.error?.code, code, r.text);
  if (message) assert.match(r.json.error.message, message);
}

test('GET /healthz needs no token; every other endpoint is 401 without it or with a wrong one', async (t) => {
  const d = await startTlsd({ t, args: ['--demo'], control: true, workers: 1 });
  const h = await d.api('GET', '/healthz', { token: false });
  assert.equal(h.status, 200);
  assert.equal(h.text, 'ok\n');
  for (const [method, p] of PROTECTED) {
    assertError(await d.api(method, p, { token: false, body: {} }), 401, 'unauthorized', /Authorization: Bearer/);
    assertError(await d.api(method, p, { token: 'x'.repeat(64), body: {} }), 401, 'unauthorized', /wrong token/);
  }
  const st = fs.statSync(path.join(d.stateDir, 'control.token'));
  assert.equal(st.mode & 0o777, 0o600, 'the token file is private');
  assert.match(d.token(), /^[0-9a-f]{64}$/);
  assert.equal(d.exited, null, 'an unauthorized POST /v1/close stopped nothing');
});

test('the token survives a restart with the same state dir; control.tokenFile is used as given', async (t) => {
  const stateDir = path.join(tmpdir(), 'state');
  const a = await startTlsd({ t, args: ['--demo'], control: true, stateDir, workers: 1 });
  const token = a.token();
  await a.stop();
  const b = await startTlsd({ t, args: ['--demo'], control: true, stateDir, workers: 1 });
  assert.equal(b.token(), token);
  assert.equal((await b.api('GET', '/v1/stats')).status, 200);

  const file = path.join(tmpdir(), 'my.token');
  fs.writeFileSync(file, 'operator-secret\n', { mode: 0o600 });
  const c = await startTlsd({ t, config: { ...ecCreds(), control: { listen: '127.0.0.1:0', tokenFile: file } },
    control: true, workers: 1 });
  assert.equal((await c.api('GET', '/v1/stats', { token: 'operator-secret' })).status, 200);
  assert.equal((await c.api('GET', '/v1/stats', { token: token })).status, 401);
});

test('refusals: Origin 403, foreign Host 403, unknown path 404, wrong method 405, body over 1 MiB 413',
  async (t) => {
    const d = await startTlsd({ t, args: ['--demo'], control: true, workers: 1 });
    assertError(await d.api('GET', '/v1/stats', { headers: ['Origin: http://localhost:3000'] }), 403, 'forbidden',
      /Origin/);
    assertError(await d.api('GET', '/v1/stats', { headers: ['Host: attacker.example:8001'] }), 403, 'forbidden',
      /attacker\.example/);
    for (const host of ['localhost:1', '127.0.0.2', '[::1]:8001']) {
      assert.equal((await d.api('GET', '/v1/stats', { headers: [`Host: ${host}`] })).status, 200, host);
    }
    assertError(await d.api('GET', '/v1/nothing'), 404, 'not_found', /\/v1\/nothing/);
    assertError(await d.api('DELETE', '/v1/stats'), 405, 'method_not_allowed');
    assertError(await d.api('POST', '/v1/ticket-keys'), 405, 'method_not_allowed');
    const before = (await d.api('GET', '/v1/ticket-keys')).json;
    const huge = JSON.stringify({ keys: b64(48), pad: 'x'.repeat(1024 * 1024) });
    assertError(await d.api('PUT', '/v1/ticket-keys', { body: huge }), 413, 'payload_too_large');
    assert.deepEqual((await d.api('GET', '/v1/ticket-keys')).json, before, 'a refused body changed nothing');
  });

test('PUT /v1/ticket-keys: bad bodies are 400 naming the field and change nothing', async (t) => {
  const d = await startTlsd({ t, args: ['--demo'], control: true, workers: 2 });
  const before = (await d.api('GET', '/v1/ticket-keys')).json;
  assert.equal(Buffer.from(before.keys, 'base64').length, 48);
  assert.equal(before.generation, 1);
  const cases = [
    ['{"keys": ', 'bad_json', /^body: not JSON/],
    ['[]', 'bad_json', /^body: must be a JSON object/],
    [{}, 'bad_field', /^keys: missing/],
    [{ keys: 5 }, 'bad_field', /^keys: must be a string/],
    [{ keys: '%%%%' }, 'bad_field', /^keys: not valid base64/],
    [{ keys: b64(47) }, 'bad_field', /^keys: decodes to 47 bytes, must be 48/],
    [{ keys: b64(49) }, 'bad_field', /^keys: decodes to 49 bytes/],
    [{ keys: b64(48), name: 'x' }, 'unknown_field', /^name: unknown field/],
  ];
  for (const [body, code, message] of cases) {
    assertError(await d.api('PUT', '/v1/ticket-keys', { body }), 400, code, message);
    assert.deepEqual((await d.api('GET', '/v1/ticket-keys')).json, before, `after ${JSON.stringify(body)}`);
  }
  assertError(await d.api('POST', '/v1/ticket-keys/rotate', { body: { now: true } }), 400, 'unknown_field');
  assert.equal((await d.api('GET', '/v1/stats')).json.ticket_keys.generation, 1);
});

// resumedOnEveryWorker(d, session, opts): for each worker in turn, with
// the others frozen (SIGSTOP) so that it alone accepts, a reconnect with
// <session> is served by that worker and resumes.
async function resumedOnEveryWorker(d, session, opts) {
  const pids = d.workerPids();
  for (const pid of pids) {
    const others = pids.filter((p) => p !== pid);
    for (const p of others) process.kill(p, 'SIGSTOP');
    try {
      const s = await connectTls(d.port, { ...opts, session, owner: d });
      assert.equal(d.ownerOf(s), pid, 'served by the one running worker');
      assert.ok(s.isSessionReused(), `resumed on worker ${pid}`);
      s.end();
    } finally {
      for (const p of others) process.kill(p, 'SIGCONT');
    }
  }
}

for (const [version, opts] of [['TLSv1.2', TLS12], ['TLSv1.3', TLS13]]) {
  test(`${version}: after PUT /v1/ticket-keys old tickets still resume (decrypt-only) and new ones resume on every worker`,
    async (t) => {
      const d = await startTlsd({ t, config: ecCreds(), control: true, workers: 4 });
      await d.waitWorkers(4);
      const old = await sessionFrom(d.port, opts);
      assert.equal(await resumedWith(d.port, old, opts), true, 'the old ticket resumes before the change');
      const keys = b64(48);
      const put = await d.api('PUT', '/v1/ticket-keys', { body: { keys } });
      assert.equal(put.status, 200);
      assert.equal(put.json.generation, 2);
      const got = (await d.api('GET', '/v1/ticket-keys')).json;
      assert.equal(got.keys, keys);
      assert.equal(got.generation, 2);
      assert.deepEqual(got.ring.map((e) => e.state), ['next', 'active', 'decrypt-only']);
      for (let i = 0; i < 8; i++) assert.equal(await resumedWith(d.port, old, opts), true, `old ticket, try ${i}`);
      const fresh = await sessionFrom(d.port, opts);
      await resumedOnEveryWorker(d, fresh, opts);
      // The runtime keys map onto GnuTLS's key as ticketKeys in a config does.
      const twin = await startTlsd({ t, config: { ...ecCreds(), ticketKeys: keys }, workers: 1 });
      assert.equal(await resumedWith(twin.port, fresh, opts), true, 'an instance started with the same keys');
    });
}

test('POST /v1/ticket-keys/rotate: the next key becomes active, generation + 1; with ticketKeyRing 2 old tickets stop resuming', async (t) => {
  const d = await startTlsd({ t, config: { ...ecCreds(), ticketKeyRing: 2 }, control: true, workers: 2 });
  const before = (await d.api('GET', '/v1/ticket-keys')).json;
  const old = await sessionFrom(d.port, TLS13);
  const r = await d.api('POST', '/v1/ticket-keys/rotate');
  assert.equal(r.status, 200);
  assert.equal(r.json.generation, before.generation + 1);
  const after = (await d.api('GET', '/v1/ticket-keys')).json;
  assert.notEqual(after.keys, before.keys);
  assert.equal(Buffer.from(after.keys, 'base64').length, 48);
  assert.equal(after.ring[1].id, before.ring[0].id, 'the next key is the active one now');
  assert.equal(after.ring.length, 2);
  assert.equal(await resumedWith(d.port, old, TLS13), false);
  assert.equal((await d.api('POST', '/v1/ticket-keys/rotate', { body: '{}' })).json.generation,
    before.generation + 2);
});

function delta(after, before) {
  const out = {};
  for (const [k, v] of Object.entries(after)) {
    out[k] = typeof v === 'object' && v !== null && !Array.isArray(v) ? delta(v, before[k]) : v - (before[k] ?? 0);
  }
  return out;
}

test('/v1/stats counts exactly the traffic the test made, summed over 2 workers', async (t) => {
  const d = await startTlsd({ t, config: { ...ecCreds(), handshakeTimeout: 400 }, control: true, workers: 2 });
  await d.waitWorkers(2);
  const base = (await d.api('GET', '/v1/stats')).json;
  await knownTraffic(d, 3);

  const now = (await d.api('GET', '/v1/stats')).json;
  const got = delta(now, base);
  assert.deepEqual(got.handshakes, {
    full: 5, resumed: 7, resumed_session_id: 3, resumed_ticket: 4, failed: 1, timeout: 1,
    by_version: { 'TLSv1.2': 9, 'TLSv1.3': 3 },
    failures: { timeout: 1, protocol_version: 0, no_shared_cipher: 0, bad_certificate: 0, client_closed: 0,
      not_tls: 1, too_large: 0, other: 0 },
  });
  assert.deepEqual(got.connections, { current: 0, total: 14, rejected: 0, accept_paused: 0 });
  assert.deepEqual(got.bytes, { in: 15, out: 15 });
  assert.equal(got.session_cache.hits, 3);
  assert.ok(now.session_cache.entries >= 1);
  assert.equal(now.session_cache.capacity, 20480);
  assert.equal(now.workers.length, 2);
  assert.equal(now.workers.reduce((n, w) => n + w.accepted, 0), now.connections.total);
  assert.deepEqual(new Set(now.workers.map((w) => w.pid)), new Set(d.workerPids()));
  assert.ok(now.uptime_s >= 0);
});

test('a killed worker: the replacement counts as a restart and the totals keep its connections', async (t) => {
  const d = await startTlsd({ t, args: ['--demo'], control: true, workers: 2 });
  const pids = await d.waitWorkers(2);
  const socks = [];
  for (let i = 0; i < 8; i++) {
    const s = await d.connect();
    await echo(s, 'x');
    socks.push(s);
  }
  const during = (await d.api('GET', '/v1/stats')).json;
  assert.equal(during.connections.current, 8);
  const victim = d.ownerOf(socks[0]);
  const lost = socks.filter((s) => d.ownerOf(s) === victim).length;
  process.kill(victim, 'SIGKILL');
  await waitFor(() => {
    const p = d.workerPids();
    return p.length === 2 && !p.includes(victim);
  }, ms(5000), 'a replacement worker');
  const after = await waitFor(async () => {
    const s = (await d.api('GET', '/v1/stats')).json;
    return s.workers.every((w) => w.pid !== victim && w.pid > 0) ? s : null;
  }, ms(5000), 'stats showing the replacement');
  assert.equal(after.connections.total, 8, 'the dead worker\'s connections stay in the total');
  assert.equal(after.connections.current, 8 - lost, 'its open connections went with it');
  const slot = after.workers.findIndex((w) => !pids.includes(w.pid));
  assert.equal(after.workers[slot].restarts, 1);
  assert.equal(after.workers[1 - slot].restarts, 0);
  for (const s of socks) s.destroy();
});

test('PUT /v1/max-connections: applies at once across workers; bad values are 400 and change nothing',
  async (t) => {
    const d = await startTlsd({ t, args: ['--demo'], control: true, workers: 4 });
    await d.waitWorkers(4);
    assert.deepEqual((await d.api('GET', '/v1/max-connections')).json, { maxConnections: 0 });
    assert.deepEqual((await d.api('PUT', '/v1/max-connections', { body: { maxConnections: 3 } })).json,
      { maxConnections: 3 });
    for (const [body, re] of [[{ maxConnections: -1 }, /between 0 and/], [{ maxConnections: '5' }, /integer/],
      [{ maxConnections: 1.5 }, /integer/], [{}, /missing/], [{ max: 5 }, /^max: unknown field/]]) {
      const r = await d.api('PUT', '/v1/max-connections', { body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.json.error.message, re);
    }
    assert.deepEqual((await d.api('GET', '/v1/max-connections')).json, { maxConnections: 3 });
    const base = (await d.api('GET', '/v1/stats')).json;
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => d.connect({ timeout: ms(10000) })));
    const held = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
    assert.equal(held.length, 3);
    const now = (await d.api('GET', '/v1/stats')).json;
    assert.equal(now.connections.rejected - base.connections.rejected, 7);
    assert.equal(now.connections.current, 3);
    await d.api('PUT', '/v1/max-connections', { body: { maxConnections: 0 } });
    const more = await d.connect();
    await echo(more, 'unlimited again');
    for (const s of [...held, more]) s.destroy();
  });

test('GET /v1/address lists the bound listeners with their real ports', async (t) => {
  const d = await startTlsd({ t, args: ['--demo', '--listen', '127.0.0.1:0', '--listen', '[::1]:0'], control: true,
    workers: 1 });
  const r = await d.api('GET', '/v1/address');
  assert.deepEqual(r.json, [
    { address: '127.0.0.1', family: 'IPv4', port: d.ports[0] },
    { address: '::1', family: 'IPv6', port: d.ports[1] },
  ]);
});

test('POST /v1/close answers 202, then tlsd drains and exits 0', async (t) => {
  const d = await startTlsd({ t, args: ['--demo'], control: true, workers: 2 });
  const s = await d.connect();
  const r = await d.api('POST', '/v1/close');
  assert.equal(r.status, 202);
  assert.equal((await echo(s, 'still served while draining')).toString(), 'still served while draining');
  s.end();
  assert.deepEqual(await d.waitExit(ms(10000)), { code: 0, signal: null });
});

test('a unix socket control endpoint: mode 0600, no token needed, removed on exit', async (t) => {
  const sock = path.join(tmpdir(), 'ctl.sock');
  const d = await startTlsd({ t, args: ['--demo'], control: `unix:${sock}`, workers: 1 });
  assert.equal(d.control, `unix:${sock}`);
  assert.equal(fs.statSync(sock).mode & 0o777, 0o600);
  const r = await d.api('GET', '/v1/stats');
  assert.equal(r.status, 200);
  assert.equal(r.json.workers.length, 1);
  assert.equal(fs.existsSync(path.join(d.stateDir, 'control.token')), false, 'no token is made for a unix socket');
  await d.stop();
  assert.equal(fs.existsSync(sock), false);
});

test('ticket keys set at runtime survive a restart with the same state dir; a changed ticketKeys in the config wins',
  async (t) => {
    const stateDir = path.join(tmpdir(), 'state');
    const k1 = b64(48);
    const k2 = b64(48);
    const k3 = b64(48);
    const a = await startTlsd({ t, config: { ...ecCreds(), ticketKeys: k1 }, control: true, stateDir, workers: 2 });
    assert.equal((await a.api('PUT', '/v1/ticket-keys', { body: { keys: k2 } })).status, 200);
    assert.equal(fs.statSync(path.join(stateDir, 'ticket-keys')).mode & 0o777, 0o600);
    const session = await sessionFrom(a.port, TLS13);
    await a.stop();
    const b = await startTlsd({ t, config: { ...ecCreds(), ticketKeys: k1 }, control: true, stateDir, workers: 2 });
    assert.equal((await b.api('GET', '/v1/ticket-keys')).json.keys, k2, 'the rotated keys, not the config\'s');
    assert.equal(await resumedWith(b.port, session, TLS13), true, 'a ticket from before the restart resumes');
    await b.stop();
    const c = await startTlsd({ t, config: { ...ecCreds(), ticketKeys: k3 }, control: true, stateDir, workers: 1 });
    assert.equal((await c.api('GET', '/v1/ticket-keys')).json.keys, k3, 'the config changed: its keys win');
  });

test('PUT /v1/ticket-keys when the state file cannot be written is 500 and changes nothing', async (t) => {
  const d = await startTlsd({ t, args: ['--demo'], control: true, workers: 1 });
  fs.mkdirSync(path.join(d.stateDir, 'ticket-keys'));	// a folder where the file would go
  const before = (await d.api('GET', '/v1/ticket-keys')).json;
  const r = await d.api('PUT', '/v1/ticket-keys', { body: { keys: b64(48) } });
  assert.equal(r.status, 500);
  assert.match(r.json.error.message, /ticket-keys/);
  assert.deepEqual((await d.api('GET', '/v1/ticket-keys')).json, before);
  assert.equal((await d.api('POST', '/v1/ticket-keys/rotate')).status, 500);
  assert.deepEqual((await d.api('GET', '/v1/ticket-keys')).json, before);
});

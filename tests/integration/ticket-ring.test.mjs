// ticket-ring.test.mjs - ticket keys that rotate without making every
// outstanding ticket useless: next, active and decrypt-only keys; a next
// key installed ahead (a fleet); the ring kept across a restart.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import {
  test, startTlsd, ecCreds, sessionFrom, resumedWith, tmpdir,
} from './lib.mjs';

const b64 = (n) => crypto.randomBytes(n).toString('base64');
const TLS12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' };
const TLS13 = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' };
const SESSIONS = 12;

// share(port, sessions, opts): how many of <sessions> resume now.
async function share(port, sessions, opts) {
  let n = 0;
  for (const s of sessions) n += (await resumedWith(port, s, opts)) ? 1 : 0;
  return n;
}

async function sessions(port, opts, n = SESSIONS) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await sessionFrom(port, opts));
  return out;
}

for (const [version, opts] of [['TLSv1.2', TLS12], ['TLSv1.3', TLS13]]) {
  test(`${version}: tickets from before a rotation resume on 4 workers; after ring-size rotations they do not`, async (t) => {
    const d = await startTlsd({ t, config: ecCreds(), control: true, workers: 4 });
    await d.waitWorkers(4);
    const before = await sessions(d.port, opts);
    assert.equal(await share(d.port, before, opts), SESSIONS, 'before any rotation');
    const stats0 = (await d.api('GET', '/v1/stats')).json.ticket_keys;

    assert.equal((await d.api('POST', '/v1/ticket-keys/rotate')).status, 200);
    const after1 = await share(d.port, before, opts);
    const mid = await sessions(d.port, opts, 4);	// issued under the new active key
    const stats1 = (await d.api('GET', '/v1/stats')).json.ticket_keys;

    assert.equal((await d.api('POST', '/v1/ticket-keys/rotate')).status, 200);
    const after2 = await share(d.port, before, opts);
    const midAfter2 = await share(d.port, mid, opts);
    assert.equal((await d.api('POST', '/v1/ticket-keys/rotate')).status, 200);
    const midAfter3 = await share(d.port, mid, opts);
    const stats3 = (await d.api('GET', '/v1/stats')).json.ticket_keys;
    t.diagnostic(`resumed of ${SESSIONS} issued before: ${after1} after 1 rotation, ${after2} after 2; ` +
      `of 4 issued after the first: ${midAfter2} after 2, ${midAfter3} after 3`);

    assert.equal(after1, SESSIONS, 'one rotation: the old active key decrypts');
    assert.equal(after2, 0, 'two rotations with ticketKeyRing 3: that key left the ring');
    assert.equal(midAfter2, 4, 'tickets of the key active before the second rotation');
    assert.equal(midAfter3, 0);
    assert.equal(stats1.resumed.decrypt_only - stats0.resumed.decrypt_only, SESSIONS);
    assert.ok(stats3.not_found - stats1.not_found >= SESSIONS + 4, `not_found ${stats3.not_found}`);
  });
}

test('a fleet: a ticket under a next key installed on B resumes on A only once A holds that key', async (t) => {
  const a = await startTlsd({ t, config: ecCreds(), control: true, workers: 2 });
  const b = await startTlsd({ t, config: ecCreds(), control: true, workers: 2 });
  const keys = b64(48);
  assert.equal((await b.api('PUT', '/v1/ticket-keys/next', { body: { keys } })).status, 200);
  assert.equal((await b.api('POST', '/v1/ticket-keys/rotate')).status, 200);
  assert.equal((await b.api('GET', '/v1/ticket-keys')).json.keys, keys, 'B encrypts under the fleet key');
  for (const opts of [TLS12, TLS13]) {
    const s = await sessionFrom(b.port, opts);
    assert.equal(await resumedWith(a.port, s, opts), false, `${opts.minVersion}: A does not hold the key yet`);
  }
  const put = await a.api('PUT', '/v1/ticket-keys/next', { body: { keys } });
  assert.equal(put.status, 200);
  const ring = (await a.api('GET', '/v1/ticket-keys')).json.ring;
  assert.equal(ring[0].state, 'next');
  assert.equal(ring[0].id, (await b.api('GET', '/v1/ticket-keys')).json.ring[1].id, 'the same id on both');
  for (const opts of [TLS12, TLS13]) {
    const s = await sessionFrom(b.port, opts);
    assert.equal(await resumedWith(a.port, s, opts), true, `${opts.minVersion}: A decrypts with its next key`);
  }
  const st = (await a.api('GET', '/v1/stats')).json.ticket_keys;
  assert.ok(st.resumed.next >= 2, `resumed under the next key: ${st.resumed.next}`);
  // The same next key again changes nothing; key material is checked.
  assert.equal((await a.api('PUT', '/v1/ticket-keys/next', { body: { keys } })).status, 409);
  const bad = await a.api('PUT', '/v1/ticket-keys/next', { body: { keys: 'AAEC' } });
  assert.equal(bad.status, 400);
  assert.match(bad.json.error.message, /^keys: decodes to 3 bytes/);
  assert.equal((await a.api('GET', '/v1/ticket-keys')).json.generation, 2, 'refused requests changed nothing');
});

test('the ring survives a master restart (state dir), and old tickets still resume after it', async (t) => {
  const stateDir = path.join(tmpdir(), 'state');
  const first = await startTlsd({ t, config: ecCreds(), control: true, stateDir, workers: 1 });
  const old = await sessionFrom(first.port, TLS13);
  assert.equal((await first.api('POST', '/v1/ticket-keys/rotate')).status, 200);
  const ring = (await first.api('GET', '/v1/ticket-keys')).json.ring;
  assert.deepEqual(ring.map((e) => e.state), ['next', 'active', 'decrypt-only']);
  await first.stop();
  const second = await startTlsd({ t, config: ecCreds(), control: true, stateDir, workers: 1 });
  const again = (await second.api('GET', '/v1/ticket-keys')).json.ring;
  assert.deepEqual(again.map((e) => [e.id, e.state, e.createdAt]), ring.map((e) => [e.id, e.state, e.createdAt]));
  assert.equal(await resumedWith(second.port, old, TLS13), true, 'a ticket from before the rotation and the restart');
});

test('GET /v1/ticket-keys shows no key material but the active key', async (t) => {
  const d = await startTlsd({ t, config: ecCreds(), control: true, workers: 1 });
  await d.api('POST', '/v1/ticket-keys/rotate');
  const got = (await d.api('GET', '/v1/ticket-keys')).json;
  assert.deepEqual(Object.keys(got).sort(), ['generation', 'keys', 'ring']);
  for (const e of got.ring) {
    assert.deepEqual(Object.keys(e).sort(), ['createdAt', 'id', 'state']);
    assert.match(e.id, /^[0-9a-f]{16}$/);
    assert.match(e.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  }
});

// tokens.test.mjs - the control endpoint's two tokens: the admin token
// (control.token) may do everything; the read-only token
// (control-readonly.token) reads what holds no secret and gets 403 on the
// ticket keys and on every change. Both files are private, and the
// read-only one gets the admin file's checks.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test, startTlsd, expectStartFailure, tmpdir, ecCreds } from './lib.mjs';

const READS = [
  ['GET', '/v1/stats'], ['GET', '/metrics'], ['GET', '/v1/connections'], ['GET', '/v1/contexts'],
  ['GET', '/v1/address'], ['GET', '/v1/ciphers'], ['GET', '/v1/max-connections'], ['GET', '/v1/secure-context'],
];
const b64 = (n) => crypto.randomBytes(n).toString('base64');
// Every route that changes something, with a body it would accept.
const WRITES = [
  ['PUT', '/v1/ticket-keys', { keys: b64(48) }],
  ['POST', '/v1/ticket-keys/rotate', undefined],
  ['PUT', '/v1/ticket-keys/next', { keys: b64(48) }],
  ['PUT', '/v1/max-connections', { maxConnections: 7 }],
  ['POST', '/v1/contexts', { hostname: 'shop.example.com', ...ecCreds() }],
  ['DELETE', '/v1/contexts/localhost', undefined],
  ['POST', '/v1/contexts', { hostname: '*', ...ecCreds() }],
  ['PUT', '/v1/secure-context', ecCreds()],
  ['DELETE', '/v1/secure-context', undefined],
  ['POST', '/v1/close', undefined],
];

const readonlyToken = (d) => fs.readFileSync(path.join(d.stateDir, 'control-readonly.token'), 'utf8').trim();

function assertAdminRequired(r, what) {
  assert.equal(r.status, 403, `${what}: ${r.text}`);
  assert.equal(r.json?.error?.code, 'admin_token_required', `${what}: ${r.text}`);
  assert.match(r.json.error.message, /needs the admin token/, what);
}

test('both token files are created 0600, differ, and survive a restart', async (t) => {
  const stateDir = path.join(tmpdir(), 'state');
  const a = await startTlsd({ t, args: ['--demo'], control: true, stateDir, workers: 1 });
  for (const name of ['control.token', 'control-readonly.token']) {
    const st = fs.statSync(path.join(stateDir, name));
    assert.equal(st.mode & 0o777, 0o600, `${name} is private`);
  }
  const ro = readonlyToken(a);
  assert.match(ro, /^[0-9a-f]{64}$/);
  assert.notEqual(ro, a.token());
  await a.stop();
  const b = await startTlsd({ t, args: ['--demo'], control: true, stateDir, workers: 1 });
  assert.equal(readonlyToken(b), ro, 'the read-only token is kept across restarts');
});

test('the read-only token reads stats, metrics and listings; 403 on the ticket keys and every write', async (t) => {
  const d = await startTlsd({ t, args: ['--demo'], control: true, workers: 1 });
  const ro = readonlyToken(d);
  for (const [method, p] of READS) {
    const r = await d.api(method, p, { token: ro });
    assert.equal(r.status, 200, `${method} ${p} with the read-only token: ${r.text}`);
  }
  assert.match((await d.api('GET', '/metrics', { token: ro })).text, /^tlsd_uptime_seconds /m);
  const before = (await d.api('GET', '/v1/ticket-keys')).json;

  const keys = await d.api('GET', '/v1/ticket-keys', { token: ro });
  assertAdminRequired(keys, 'GET /v1/ticket-keys');
  assert.ok(!keys.text.includes(before.keys), 'no key material in the refusal');
  for (const [method, p, body] of WRITES) {
    assertAdminRequired(await d.api(method, p, { token: ro, body }), `${method} ${p}`);
  }

  // Nothing changed: same ring, same limit, the default context still there,
  // and the server still running after the refused POST /v1/close.
  const after = (await d.api('GET', '/v1/ticket-keys')).json;
  assert.equal(after.generation, before.generation);
  assert.deepEqual(after.ring, before.ring);
  assert.equal((await d.api('GET', '/v1/max-connections')).json.maxConnections, 0);
  assert.deepEqual((await d.api('GET', '/v1/contexts')).json.map((c) => c.hostname).includes('shop.example.com'),
    false);
  assert.equal((await d.api('GET', '/v1/secure-context')).json.source, 'config', 'the default is the config\'s still');
  assert.equal(d.exited, null);
});

test('the admin token does everything; a wrong token and no token get 401; /healthz needs none', async (t) => {
  const d = await startTlsd({ t, args: ['--demo'], control: true, workers: 1 });
  for (const [method, p] of [...READS, ['GET', '/v1/ticket-keys']]) {
    assert.equal((await d.api(method, p)).status, 200, `${method} ${p} with the admin token`);
  }
  const rotated = await d.api('POST', '/v1/ticket-keys/rotate');
  assert.equal(rotated.status, 200, rotated.text);
  const put = await d.api('PUT', '/v1/max-connections', { body: { maxConnections: 7 } });
  assert.equal(put.status, 200, put.text);
  assert.equal((await d.api('GET', '/v1/max-connections', { token: readonlyToken(d) })).json.maxConnections, 7);
  for (const token of [false, 'x'.repeat(64)]) {
    const r = await d.api('GET', '/v1/stats', { token });
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.error.code, 'unauthorized');
  }
  assert.equal((await d.api('GET', '/healthz', { token: false })).status, 200);
  // A path that does not exist: 404 for either token (nothing to protect).
  assert.equal((await d.api('GET', '/v1/nothing', { token: readonlyToken(d) })).status, 404);
});

test('the read-only token file gets the admin file\'s checks', async (t) => {
  const setup = (mode, text = 'reader-secret\n') => {
    const stateDir = path.join(tmpdir(), 'state');
    fs.mkdirSync(stateDir, { mode: 0o700 });
    const file = path.join(stateDir, 'control-readonly.token');
    fs.writeFileSync(file, text);
    fs.chmodSync(file, mode);
    return { stateDir, file };
  };
  const args = (stateDir) => ['--demo', '--control', '127.0.0.1:0', '--state-dir', stateDir];

  const writable = setup(0o620);
  let r = await expectStartFailure(args(writable.stateDir), { defaults: false });
  assert.match(r.stderr, /control-readonly\.token: writable by group or others/);

  const link = setup(0o600);
  fs.renameSync(link.file, `${link.file}.real`);
  fs.symlinkSync(`${link.file}.real`, link.file);
  r = await expectStartFailure(args(link.stateDir), { defaults: false });
  assert.match(r.stderr, /control-readonly\.token: a symbolic link/);

  const empty = setup(0o600, '\n');
  r = await expectStartFailure(args(empty.stateDir), { defaults: false });
  assert.match(r.stderr, /control-readonly\.token: empty/);

  // The same text as the admin token would make every reader an admin.
  const same = setup(0o600, 'one-secret\n');
  fs.writeFileSync(path.join(same.stateDir, 'control.token'), 'one-secret\n', { mode: 0o600 });
  r = await expectStartFailure(args(same.stateDir), { defaults: false });
  assert.match(r.stderr, /the same as the admin token/);

  // Readable by others: made 0600 with a warning, and used as written.
  const readable = setup(0o644);
  const d = await startTlsd({ t, args: ['--demo'], control: true, stateDir: readable.stateDir, workers: 1 });
  assert.equal(fs.statSync(readable.file).mode & 0o777, 0o600);
  assert.match(d.stderr, /control-readonly\.token: mode 0644 lets others read the token; made 0600/);
  assert.equal((await d.api('GET', '/v1/stats', { token: 'reader-secret' })).status, 200);
  assertAdminRequired(await d.api('POST', '/v1/ticket-keys/rotate', { token: 'reader-secret' }), 'rotate');
});

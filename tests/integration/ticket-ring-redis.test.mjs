// ticket-ring-redis.test.mjs - the ticket-key ring shared by two tlsd
// instances (two machines) through the sessionStore's redis-server: a
// change on one is on the other within seconds, and tickets issued by
// either before a rotation resume on both after it.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import {
  test, startTlsd, ecCreds, sessionFrom, resumedWith, tmpdir, waitFor, haveTool, ms,
} from './lib.mjs';

const skip = !haveTool('redis-server') ? 'redis-server is not installed' : false;
const TLS13 = { minVersion: 'TLSv1.3' };
const TLS12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' };

async function startRedis(t) {
  const dir = tmpdir();
  const sock = path.join(dir, 'redis.sock');
  const p = spawn('redis-server', ['--port', '0', '--unixsocket', sock, '--save', '', '--appendonly', 'no',
    '--dir', dir], { stdio: 'ignore' });
  t.after(() => p.kill('SIGKILL'));
  await waitFor(() => fs.existsSync(sock), ms(5000), 'redis-server to listen');
  return sock;
}

const ids = async (d) => (await d.api('GET', '/v1/ticket-keys')).json.ring.map((e) => `${e.id}:${e.state}`);

test('a rotation on A reaches B; tickets from both before it resume on both after it', { skip }, async (t) => {
  const sock = await startRedis(t);
  const config = { ...ecCreds(), sessionStore: { redis: `unix:${sock}`, prefix: 'ring-test:' } };
  const a = await startTlsd({ t, config, control: true, workers: 2 });
  const b = await startTlsd({ t, config, control: true, workers: 2 });
  // B started second: it takes the ring A put in Redis.
  await waitFor(async () => (await ids(a)).join() === (await ids(b)).join(), ms(8000), 'one ring on both');
  const before = [];
  for (const opts of [TLS13, TLS12]) {
    before.push([opts, await sessionFrom(a.port, opts)], [opts, await sessionFrom(b.port, opts)]);
  }
  assert.equal((await a.api('POST', '/v1/ticket-keys/rotate')).status, 200);
  const want = (await ids(a)).join();
  const start = Date.now();
  await waitFor(async () => (await ids(b)).join() === want, ms(8000), 'B to take A\'s rotation');
  t.diagnostic(`B had A's rotated ring after ${Date.now() - start} ms`);
  for (const [opts, s] of before) {
    assert.equal(await resumedWith(a.port, s, opts), true, `${opts.minVersion} on A`);
    assert.equal(await resumedWith(b.port, s, opts), true, `${opts.minVersion} on B`);
  }
  // A next key installed on B is on A before anyone activates it.
  const keys = crypto.randomBytes(48).toString('base64');
  assert.equal((await b.api('PUT', '/v1/ticket-keys/next', { body: { keys } })).status, 200);
  await waitFor(async () => (await ids(a)).join() === (await ids(b)).join(), ms(8000), 'B\'s next key on A');
  assert.match(b.stderr + a.stderr, /ring version \d+ from the fleet/);
});

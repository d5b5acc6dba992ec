// session-store.test.mjs - session IDs shared by two tlsd instances (two
// machines) through a real redis-server: a session made on A resumes on B;
// Redis down, stuck or lying costs no handshake.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import {
  test, startTlsd, ecCreds, sessionFrom, resumedWith, tmpdir, waitFor, haveTool, sleep, ms,
} from './lib.mjs';

const NO_TICKET = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', secureOptions: crypto.constants.SSL_OP_NO_TICKET };
const skip = !haveTool('redis-server') || !haveTool('redis-cli') ? 'redis-server is not installed' : false;

// startRedis(t): a redis-server on a unix socket in a temporary folder,
// stopped after the test; resolves with {sock, pid, cli(args...), stop()}.
async function startRedis(t) {
  const dir = tmpdir();
  const sock = path.join(dir, 'redis.sock');
  const p = spawn('redis-server', ['--port', '0', '--unixsocket', sock, '--save', '', '--appendonly', 'no',
    '--dir', dir], { stdio: 'ignore' });
  const r = {
    sock,
    pid: p.pid,
    cli: (...args) => execFileSync('redis-cli', ['-s', sock, ...args], { encoding: 'utf8' }).trim(),
    stop: () => {
      try {
        process.kill(p.pid, 'SIGCONT');
        p.kill('SIGKILL');
      } catch {
        /* gone */
      }
    },
  };
  t.after(r.stop);
  await waitFor(() => fs.existsSync(sock), ms(5000), 'redis-server to listen');
  return r;
}

function storeConfig(redis, extra = {}) {
  return { ...ecCreds(), sessionStore: { redis: `unix:${redis.sock}`, prefix: 'tlsd-test:' }, ...extra };
}

async function stats(d) {
  return (await d.api('GET', '/v1/stats')).json.session_store;
}

async function timed(fn) {
  const start = process.hrtime.bigint();
  const v = await fn();
  return { v, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

test('a session ID made on A resumes on B through Redis (and not without it)', { skip }, async (t) => {
  const redis = await startRedis(t);
  const a = await startTlsd({ t, config: storeConfig(redis), control: true, workers: 2 });
  const b = await startTlsd({ t, config: storeConfig(redis), control: true, workers: 2 });
  const alone = await startTlsd({ t, config: ecCreds(), workers: 1 });
  const session = await sessionFrom(a.port, NO_TICKET);
  await waitFor(() => redis.cli('--scan', '--pattern', 'tlsd-test:session:*').length > 0, ms(3000), 'the write behind');
  const ttl = Number(redis.cli('TTL', redis.cli('--scan', '--pattern', 'tlsd-test:session:*').split('\n')[0]));
  assert.ok(ttl > 250 && ttl <= 300, `entry TTL ${ttl} s (sessionTimeout 300)`);
  assert.equal(await resumedWith(b.port, session, NO_TICKET), true, 'B resumes A\'s session');
  assert.equal(await resumedWith(alone.port, session, NO_TICKET), false, 'an instance without the store does not');
  const sa = await stats(a);
  const sb = await stats(b);
  assert.ok(sa.writes >= 1, `A wrote ${sa.writes}`);
  assert.equal(sb.hits, 1, 'B found it in Redis once');
  // Now it is in B's shared memory: the next resumption does not ask Redis.
  const cacheBefore = (await b.api('GET', '/v1/stats')).json.session_cache;
  assert.equal(await resumedWith(b.port, session, NO_TICKET), true);
  assert.equal((await stats(b)).hits, 1);
  // ... and the shared cache counts that resumption once (the look before
  // asking Redis counts nothing).
  const cacheAfter = (await b.api('GET', '/v1/stats')).json.session_cache;
  assert.equal(cacheAfter.hits - cacheBefore.hits, 1, 'one cache hit for one resumption');
  assert.equal(cacheAfter.misses - cacheBefore.misses, 0);
  // TLS 1.3 ClientHellos carry a random session ID: never looked up.
  await sessionFrom(b.port, { minVersion: 'TLSv1.3' });
  assert.equal((await stats(b)).misses, sb.misses);
});

test('Redis killed mid-run: handshakes go on; the store comes back with Redis', { skip }, async (t) => {
  let redis = await startRedis(t);
  const a = await startTlsd({ t, config: storeConfig(redis), control: true, workers: 1 });
  const b = await startTlsd({ t, config: storeConfig(redis), control: true, workers: 1 });
  const sockPath = redis.sock;
  redis.stop();
  await waitFor(() => /sessionStore: .*resuming from this machine's cache alone/.test(b.stderr), ms(3000),
    'the outage warning');
  for (let i = 0; i < 5; i++) {
    const s = await sessionFrom(a.port, NO_TICKET);
    const r = await timed(() => resumedWith(b.port, s, NO_TICKET));
    assert.equal(r.v, false, 'no store: B cannot know A\'s session');
    assert.ok(r.ms < ms(1000), `a handshake took ${r.ms.toFixed(0)} ms with Redis down`);
  }
  assert.equal((b.stderr.match(/resuming from this machine's cache alone/g) || []).length, 1,
    'one warning per outage');
  assert.ok((await stats(b)).unavailable >= 5);
  // Redis comes back on the same socket: the workers reconnect (back-off).
  fs.rmSync(sockPath, { force: true });
  const p = spawn('redis-server', ['--port', '0', '--unixsocket', sockPath, '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' });
  t.after(() => p.kill('SIGKILL'));
  redis = { sock: sockPath };
  await waitFor(() => /sessionStore: .*connected again/.test(a.stderr) && /connected again/.test(b.stderr),
    ms(15000), 'both to reconnect', 100);
  const s = await sessionFrom(a.port, NO_TICKET);
  await sleep(100);
  assert.equal(await resumedWith(b.port, s, NO_TICKET), true, 'through Redis again');
});

test('Redis stuck (SIGSTOP): a handshake waits for it at most 50 ms', { skip }, async (t) => {
  const redis = await startRedis(t);
  const a = await startTlsd({ t, config: storeConfig(redis), control: true, workers: 1 });
  const b = await startTlsd({ t, config: storeConfig(redis), control: true, workers: 1 });
  const s = await sessionFrom(a.port, NO_TICKET);
  process.kill(redis.pid, 'SIGSTOP');
  const r = await timed(() => resumedWith(b.port, s, NO_TICKET));
  assert.equal(r.v, false);
  assert.ok(r.ms >= 40 && r.ms < ms(600), `the handshake took ${r.ms.toFixed(0)} ms`);
  assert.equal((await stats(b)).timeouts, 1);
});

test('entries that are not tlsd\'s, too large, or from another sessionIdContext are refused', { skip }, async (t) => {
  const redis = await startRedis(t);
  const a = await startTlsd({ t, config: storeConfig(redis), control: true, workers: 1 });
  const b = await startTlsd({ t, config: storeConfig(redis), control: true, workers: 1 });
  const other = await startTlsd({ t, config: storeConfig(redis, { sessionIdContext: 'another' }), control: true,
    workers: 1 });
  const keyOf = async (session) => {
    await waitFor(() => redis.cli('--scan', '--pattern', 'tlsd-test:session:*').length > 0, ms(3000), 'the write');
    const keys = redis.cli('--scan', '--pattern', 'tlsd-test:session:*').split('\n');
    assert.equal(keys.length, 1);
    return keys[0];
  };
  const s1 = await sessionFrom(a.port, NO_TICKET);
  const k1 = await keyOf(s1);
  assert.equal(await resumedWith(other.port, s1, NO_TICKET), false, 'another sessionIdContext');
  assert.equal((await stats(other)).refused, 1);
  redis.cli('SET', k1, 'garbage that is no tlsd entry');
  assert.equal(await resumedWith(b.port, s1, NO_TICKET), false, 'garbage');
  redis.cli('SET', k1, `TLSD1${'x'.repeat(8000)}`);
  assert.equal(await resumedWith(b.port, s1, NO_TICKET), false, 'oversized');
  assert.equal((await stats(b)).refused, 2);
  assert.equal((await stats(b)).hits, 0);
  // And B still serves.
  const s2 = await sessionFrom(b.port, NO_TICKET);
  assert.equal(await resumedWith(b.port, s2, NO_TICKET), true);
});

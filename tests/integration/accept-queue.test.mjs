// accept-queue.test.mjs - a worker killed while connections wait in the
// kernel's accept queue: the other workers take them (docs/design.md,
// "Accept strategy and a worker's death").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { startTlsd, connectTcp, echo, waitFor, ms } from './lib.mjs';

const QUEUED = 24;

function tlsOver(raw) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ socket: raw, servername: 'localhost', rejectUnauthorized: false });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  });
}

test('SIGKILL of a worker resets none of the connections waiting in the accept queue', async (t) => {
  const d = await startTlsd({ t, args: ['--demo'], workers: 2 });
  const [victim, survivor] = d.workerPids();
  // Freeze both workers so that every new connection stays in the queue.
  process.kill(victim, 'SIGSTOP');
  process.kill(survivor, 'SIGSTOP');
  const raws = [];
  for (let i = 0; i < QUEUED; i++) raws.push(await connectTcp(d.port));
  process.kill(victim, 'SIGKILL');
  process.kill(survivor, 'SIGCONT');
  const results = await Promise.allSettled(raws.map(async (raw, i) => {
    const s = await tlsOver(raw);
    const got = await echo(s, `queued ${i}\n`, ms(5000));
    s.destroy();
    return got.toString();
  }));
  const ok = results.filter((r) => r.status === 'fulfilled' && r.value.startsWith('queued '));
  assert.equal(ok.length, QUEUED,
    `all queued connections served; failures: ${results.filter((r) => r.status === 'rejected').map((r) => r.reason?.code || r.reason?.message).join(', ')}`);
  // The master replaces the dead worker.
  await waitFor(() => {
    const pids = d.workerPids();
    return pids.length === 2 && !pids.includes(victim) && pids.includes(survivor);
  }, ms(5000), 'a replacement worker');
});

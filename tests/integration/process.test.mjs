// process.test.mjs - the process model: workers are children of the master,
// a killed worker is replaced while the others keep serving, SIGTERM drains,
// shutdownTimeout bounds the drain, and no process outlives the master.
import assert from 'node:assert/strict';
import {
  test, closeOf, startTlsd, connectTls, rsaCreds, echo, readUntilEnd, waitFor, alive, groupAlive, ms,
} from './lib.mjs';

// notServed(port): true once a TLS connection to port cannot be made.
async function notServed(port) {
  try {
    const s = await connectTls(port, { timeout: ms(500) });
    s.destroy();
    return false;
  } catch {
    return true;
  }
}

test('workers are children of the master, as many as --workers', async (t) => {
  const d = await startTlsd({ t, args: ['--demo'], workers: 3 });
  assert.equal(d.workers, 3);
  const pids = await d.waitWorkers(3);
  assert.equal(new Set(pids).size, 3);
  assert.ok(!pids.includes(d.pid));
});

test('SIGKILL of a worker: its connections close, the others keep serving, a replacement starts', async (t) => {
  const d = await startTlsd({ t, args: ['--demo'], workers: 2 });
  const before = await d.waitWorkers(2);
  // Open connections until both workers own one (or give up after 16).
  const conns = [];
  for (let i = 0; i < 16; i++) {
    const s = await d.connect();
    await echo(s, `c${i}`);
    conns.push({ s, owner: d.ownerOf(s) });
    if (new Set(conns.map((c) => c.owner)).size === 2) break;
  }
  for (const c of conns) assert.ok(before.includes(c.owner), `connection owned by a worker (${c.owner})`);
  const victim = conns[0].owner;
  const doomed = conns.filter((c) => c.owner === victim);
  const spared = conns.filter((c) => c.owner !== victim);
  const doomedClosed = doomed.map((c) => readUntilEnd(c.s, ms(3000)));

  process.kill(victim, 'SIGKILL');

  for (const p of await Promise.all(doomedClosed)) assert.ok(p, 'the dead worker\'s connections are closed');
  for (const c of spared) {
    assert.equal((await echo(c.s, 'still here')).toString(), 'still here', 'a connection on the other worker survives');
  }
  // New connections are served while (and after) the master replaces the worker.
  for (let i = 0; i < 6; i++) {
    const s = await d.connect();
    assert.equal((await echo(s, `new${i}`)).toString(), `new${i}`);
    s.destroy();
  }
  const after = await waitFor(() => {
    const pids = d.workerPids();
    return pids.length === 2 && !pids.includes(victim) ? pids : null;
  }, ms(5000), 'a replacement worker');
  const fresh = after.filter((p) => !before.includes(p));
  assert.equal(fresh.length, 1, `one new worker: before ${before}, after ${after}`);
  assert.equal(alive(victim), false);
  // The replacement serves too: keep connecting until it takes one.
  await waitFor(async () => {
    const s = await d.connect();
    const owner = d.ownerOf(s);
    await echo(s, 'x');
    s.destroy();
    return owner === fresh[0];
  }, ms(5000), 'the replacement worker to accept a connection');
  assert.equal(d.exited, null, 'the master is still running');
});

test('SIGTERM drains: no new connections, the open one still echoes, exit 0 after it closes', async (t) => {
  const d = await startTlsd({ t, args: ['--demo'], workers: 2 });
  const workers = await d.waitWorkers(2);
  const s = await d.connect();
  assert.equal((await echo(s, 'before')).toString(), 'before');
  d.signal('SIGTERM');
  await waitFor(() => notServed(d.port), ms(3000), 'the listener to stop serving');
  assert.equal((await echo(s, 'during drain')).toString(), 'during drain', 'the open connection still works');
  assert.equal(d.exited, null, 'the master waits for the open connection');
  s.end();
  const exit = await d.waitExit(ms(5000));
  assert.deepEqual(exit, { code: 0, signal: null });
  await waitFor(() => workers.every((p) => !alive(p)), ms(2000), 'the workers to be gone');
  assert.equal(groupAlive(d.pgid), false, 'no process left in tlsd\'s group');
  const rec = d.logs.find(closeOf(s));
  assert.ok(rec, 'the drained connection was logged before exit');
  assert.equal(rec.closeReason, 'client-close');
});

test('SIGTERM with a small shutdownTimeout closes lingering connections', async (t) => {
  const d = await startTlsd({ t, config: { ...rsaCreds(), shutdownTimeout: 400 }, workers: 1 });
  const s = await d.connect();
  assert.equal((await echo(s, 'linger')).toString(), 'linger');
  const start = Date.now();
  d.signal('SIGTERM');
  const closed = readUntilEnd(s, ms(4000));
  assert.equal((await echo(s, 'inside the window')).toString(), 'inside the window');
  await closed;
  const took = Date.now() - start;
  assert.ok(took >= 300, `closed after ${took} ms, not before shutdownTimeout`);
  assert.ok(took < ms(3000), `closed after ${took} ms`);
  const exit = await d.waitExit(ms(3000));
  assert.deepEqual(exit, { code: 0, signal: null });
  const rec = d.logs.find(closeOf(s));
  assert.ok(rec, 'the forced close was logged');
  assert.equal(rec.closeReason, 'shutdown');
});

test('SIGTERM with no connections exits 0 promptly', async (t) => {
  const d = await startTlsd({ t, args: ['--demo'], workers: 2 });
  const workers = await d.waitWorkers(2);
  d.signal('SIGTERM');
  assert.deepEqual(await d.waitExit(ms(3000)), { code: 0, signal: null });
  await waitFor(() => workers.every((p) => !alive(p)), ms(2000), 'the workers to be gone');
});

// The ready line promises that a stop signal works from then on, including
// for workers that were forked a moment ago.
test('SIGTERM right after the ready line stops every time', async () => {
  for (let i = 0; i < 8; i++) {
    const d = await startTlsd({ args: ['--demo'], workers: 2 });
    d.signal('SIGTERM');
    const exit = await d.waitExit(ms(2000)).catch(() => null);
    const stderr = d.stderr;
    await d.stop().catch(() => {});
    assert.deepEqual(exit, { code: 0, signal: null }, `round ${i}: tlsd did not stop within 2 s\nstderr:\n${stderr}`);
  }
});

test('SIGINT is a graceful stop too', async (t) => {
  const d = await startTlsd({ t, args: ['--demo'], workers: 1 });
  d.signal('SIGINT');
  assert.deepEqual(await d.waitExit(ms(3000)), { code: 0, signal: null });
});

// A worker that loses its master drains like on SIGTERM (docs/design.md:
// PR_SET_PDEATHSIG), so it outlives the master only as long as its
// connections, bounded by shutdownTimeout.
test('SIGKILL of the master: workers drain their connections, then exit', async (t) => {
  const d = await startTlsd({ t, config: { ...rsaCreds(), shutdownTimeout: 20000 }, workers: 2 });
  const workers = await d.waitWorkers(2);
  const s = await d.connect();
  await echo(s, 'x');
  const owner = d.ownerOf(s);
  assert.ok(workers.includes(owner));
  d.signal('SIGKILL');
  await d.waitExit(ms(3000));
  const idle = workers.filter((p) => p !== owner);
  await waitFor(() => idle.every((p) => !alive(p)), ms(3000), 'the idle worker to exit');
  await waitFor(() => notServed(d.port), ms(3000), 'the listener to stop serving');
  assert.equal((await echo(s, 'orphaned')).toString(), 'orphaned', 'the open connection is drained, not cut');
  s.end();
  await readUntilEnd(s, ms(3000));
  await waitFor(() => !alive(owner), ms(3000), 'the last worker to exit once its connection closed');
});

test('SIGKILL of the master: shutdownTimeout bounds how long a worker lingers', async (t) => {
  const d = await startTlsd({ t, config: { ...rsaCreds(), shutdownTimeout: 400 }, workers: 1 });
  const [w] = await d.waitWorkers(1);
  const s = await d.connect();
  await echo(s, 'x');
  d.signal('SIGKILL');
  await d.waitExit(ms(3000));
  await readUntilEnd(s, ms(4000));
  await waitFor(() => !alive(w), ms(3000), 'the worker to exit after shutdownTimeout');
});

test('a worker that dies repeatedly keeps being replaced', async (t) => {
  const d = await startTlsd({ t, args: ['--demo'], workers: 1 });
  let [w] = await d.waitWorkers(1);
  for (let i = 0; i < 3; i++) {
    process.kill(w, 'SIGKILL');
    const old = w;
    [w] = await waitFor(() => {
      const p = d.workerPids();
      return p.length === 1 && p[0] !== old ? p : null;
    }, ms(8000), `replacement ${i + 1}`);
    const s = await waitFor(() => d.connect({ timeout: ms(1000) }), ms(5000), 'the replacement to serve');
    assert.equal((await echo(s, `round ${i}`)).toString(), `round ${i}`);
    s.destroy();
  }
  assert.equal(d.exited, null);
});

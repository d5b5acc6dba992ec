// max-connections.test.mjs - maxConnections holds across all workers
// together (common/cluster_stats.c): a worker that accepts a connection over
// the limit closes it at once, before any TLS (Node's server.maxConnections);
// closed connections and a killed worker's connections stop counting; 0 is
// unlimited.
import assert from 'node:assert/strict';
import { test, startTlsd, ecCreds, echo, readUntilEnd, waitFor, sleep, ms } from './lib.mjs';

// attempt(d, n): n TLS connections at once; resolves with {ok, rejected}:
// the sockets that completed the handshake (held open) and the reasons of the
// others. A rejected connection surfaces as an 'error' (ECONNRESET, EPIPE) or
// a 'close' before secureConnect; connectTls rejects on both.
async function attempt(d, n) {
  const results = await Promise.allSettled(
    Array.from({ length: n }, () => d.connect({ timeout: ms(10000) })));
  const ok = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
  const rejected = results.filter((r) => r.status === 'rejected').map((r) => r.reason?.code || r.reason?.message);
  // A connection the server closed before TLS never times out: it is refused.
  assert.ok(!rejected.includes('HANDSHAKE_TIMEOUT'), `no handshake may hang: ${rejected}`);
  return { ok, rejected };
}

// allEcho(socks, tag): every held connection still echoes.
async function allEcho(socks, tag) {
  await Promise.all(socks.map(async (s, i) => {
    assert.equal((await echo(s, `${tag} ${i}`, ms(5000))).toString(), `${tag} ${i}`);
  }));
}

function byOwner(d, socks) {
  const counts = new Map();
  for (const s of socks) {
    const w = d.ownerOf(s);
    counts.set(w, (counts.get(w) || 0) + 1);
  }
  return counts;
}

test('maxConnections 10 over 4 workers: a burst of 50 gets exactly 10; closing 3 frees exactly 3',
  { timeout: ms(30000) }, async (t) => {
    const d = await startTlsd({ t, config: { ...ecCreds(), maxConnections: 10 }, workers: 4 });
    await d.waitWorkers(4);

    // a. The successes are all held to the end, so their number is the most
    // that were open at once.
    const first = await attempt(d, 50);
    assert.equal(first.ok.length, 10, `handshakes completed: ${first.ok.length}; refused: ${first.rejected.length}`);
    assert.equal(first.rejected.length, 40);
    await allEcho(first.ok, 'held');
    const owners = byOwner(d, first.ok);
    t.diagnostic(`the 10 held connections per worker: ${JSON.stringify([...owners])}`);
    assert.ok([...owners.keys()].every((w) => w !== null), 'every held connection has a worker');
    // Nothing was admitted and then closed: only the 10 were ever served.
    assert.equal(d.logs.filter((r) => r.event === 'clientError').length, 0, 'refused before TLS, not failed in it');
    assert.equal(d.closeLogs().length, 0);

    // Still full: one more is refused.
    const again = await attempt(d, 1);
    assert.equal(again.ok.length, 0, 'an eleventh connection is refused');

    // b. Close 3; once the server has logged their close lines, exactly 3 of
    // a new burst of 10 get through.
    const closing = first.ok.slice(0, 3);
    const kept = first.ok.slice(3);
    for (const s of closing) s.end();
    await Promise.all(closing.map((s) => readUntilEnd(s, ms(5000))));
    await waitFor(() => d.closeLogs().length >= 3, ms(5000), 'close lines of the 3 connections');
    // The worker logs a close just before it releases the slot: give it a moment.
    await sleep(ms(200));
    const second = await attempt(d, 10);
    assert.equal(second.ok.length, 3, `after closing 3: ${second.ok.length} of 10 got through`);
    await allEcho([...kept, ...second.ok], 'after');
    assert.equal((await attempt(d, 1)).ok.length, 0, 'full again');
  });

test('maxConnections: a SIGKILLed worker\'s connections stop counting', { timeout: ms(30000) }, async (t) => {
  const LIMIT = 10;
  const d = await startTlsd({ t, config: { ...ecCreds(), maxConnections: LIMIT }, workers: 2 });
  const before = await d.waitWorkers(2);

  // Hold LIMIT connections, VICTIM_HELD of them on the worker to be killed:
  // while one worker is stopped, the other accepts everything.
  const VICTIM_HELD = 4;
  const [victim, survivor] = before;
  const held = [];
  const openOn = async (owner, other, n) => {
    process.kill(other, 'SIGSTOP');
    try {
      for (let i = 0; i < n; i++) {
        const s = await d.connect({ timeout: ms(10000) });
        await echo(s, `h${held.length}`);
        held.push({ s, owner: d.ownerOf(s) });
      }
    } finally {
      process.kill(other, 'SIGCONT');
    }
  };
  await openOn(victim, survivor, VICTIM_HELD);
  await openOn(survivor, victim, LIMIT - VICTIM_HELD);
  const doomed = held.filter((c) => c.owner === victim);
  const spared = held.filter((c) => c.owner === survivor);
  assert.equal(doomed.length, VICTIM_HELD, `owners: ${held.map((c) => c.owner)}; workers ${before}`);
  assert.equal(spared.length, LIMIT - VICTIM_HELD, `owners: ${held.map((c) => c.owner)}; workers ${before}`);
  assert.equal((await attempt(d, 1)).ok.length, 0, 'at the limit: refused');

  const doomedClosed = doomed.map((c) => readUntilEnd(c.s, ms(5000)));
  process.kill(victim, 'SIGKILL');
  await Promise.all(doomedClosed);
  await waitFor(() => {
    const pids = d.workerPids();
    return pids.length === 2 && !pids.includes(victim) ? pids : null;
  }, ms(8000), 'a replacement worker');

  // Exactly as many as the dead worker held get in again, one at a time...
  const fresh = [];
  for (let i = 0; i < doomed.length; i++) {
    const s = await d.connect({ timeout: ms(10000) }).catch((e) => {
      throw new Error(`connection ${i + 1} of the ${doomed.length} freed was refused (${e.code || e.message})`);
    });
    fresh.push(s);
  }
  // ...and one more is refused.
  assert.equal((await attempt(d, 1)).ok.length, 0, `the limit holds again after ${doomed.length} new connections`);
  await allEcho([...spared.map((c) => c.s), ...fresh], 'alive');
  assert.equal(d.exited, null, 'the master is still running');
});

test('maxConnections 0 (the default) is unlimited: 30 concurrent connections', { timeout: ms(30000) }, async (t) => {
  const d = await startTlsd({ t, config: ecCreds(), workers: 4 });
  await d.waitWorkers(4);
  const { ok, rejected } = await attempt(d, 30);
  assert.equal(ok.length, 30, `refused: ${rejected}`);
  await allEcho(ok, 'unlimited');
});

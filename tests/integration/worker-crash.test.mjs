// worker-crash.test.mjs - the shared TLS 1.2 session-ID cache survives
// workers dying: SIGKILLs in the middle of a stream of resumptions, and the
// death of every worker in turn, leave the master up and the stored session
// resumable (common/session_cache.c lives in memory the master maps).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test, startTlsd, ecCreds, waitFor, sleep, ms } from './lib.mjs';

const WORKERS = 4;
const KILLS = 20;
const KILL_EVERY = 150; // ms
const AFTER = 20; // reconnects after the kills
// Clients that refuse tickets: only the session-ID cache can resume them.
const noTicket = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', secureOptions: crypto.constants.SSL_OP_NO_TICKET };

// handshake(d, session): one TLS 1.2 handshake offering <session>; resolves
// with {reused, session, port: the client's port} and closes the connection.
async function handshake(d, session) {
  const s = await d.connect({ ...noTicket, session, timeout: ms(8000) });
  const r = { reused: s.isSessionReused(), session: s.getSession(), port: s.clientPort };
  s.end();
  return r;
}

// A small seeded generator, so the victims follow the same sequence of
// choices on every run.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x ^= x + Math.imul(x ^ (x >>> 7), 61 | x);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

test(`session IDs keep resuming while ${KILLS} workers are SIGKILLed, one every ${KILL_EVERY} ms`,
  { timeout: ms(40000) }, async (t) => {
    const d = await startTlsd({ t, config: ecCreds(), workers: WORKERS });
    const original = await d.waitWorkers(WORKERS);
    const first = await handshake(d);
    assert.equal(first.reused, false);
    assert.equal((await handshake(d, first.session)).reused, true, 'resumes before any kill');

    const random = prng(0x7e57);
    const killed = [];
    let killing = true;
    const killer = (async () => {
      try {
        while (killed.length < KILLS && !d.exited) {
          await sleep(KILL_EVERY);
          const pids = d.workerPids();
          if (pids.length === 0) continue; // all of them restarting
          const victim = pids[Math.floor(random() * pids.length)];
          try {
            process.kill(victim, 'SIGKILL');
            killed.push(victim);
          } catch {
            /* exited meanwhile */
          }
        }
      } finally {
        killing = false;
      }
    })();

    let attempts = 0;
    let completed = 0;
    let resumed = 0;
    const failures = new Map();
    while (killing) {
      attempts++;
      try {
        const r = await handshake(d, first.session);
        completed++;
        if (r.reused) resumed++;
      } catch (e) {
        // Cut by a kill (ECONNRESET, closed) during its handshake.
        const code = e.code || e.message;
        failures.set(code, (failures.get(code) || 0) + 1);
      }
    }
    await killer;
    t.diagnostic(`during ${killed.length} kills: ${attempts} reconnects, ${completed} completed, ` +
      `${resumed} resumed; failed: ${JSON.stringify([...failures])}`);

    assert.equal(d.exited, null, 'the master is still running');
    const after = await d.waitWorkers(WORKERS, ms(15000));
    assert.equal(killed.length, KILLS);

    assert.ok(completed >= 20, `only ${completed} reconnects completed during the kills`);
    // Were the cache lost with a worker, the same session could never resume
    // again after the first kill (a full handshake stores a new session ID,
    // not the one offered).
    assert.ok(resumed >= 0.8 * completed, `${resumed}/${completed} resumed during the kills`);

    // The workers still running log their last connections' close lines
    // within moments; count from after them.
    await sleep(ms(200));
    const from = d.logs.length;
    let resumedAfter = 0;
    const ports = new Set();
    for (let i = 0; i < AFTER; i++) {
      const r = await handshake(d, first.session);
      if (r.reused) resumedAfter++;
      ports.add(r.port);
    }
    assert.ok(resumedAfter >= AFTER - 1, `${resumedAfter}/${AFTER} resumed after the kills`);
    // The access log agrees, and the resuming was done by the workers now
    // running. (Lines are matched by client port, from where the log stood:
    // a connection whose worker was killed after its handshake has no close
    // line, and client ports come round again.)
    const mine = (r) => r.event === 'close' && ports.has(Number(r.client.slice(r.client.lastIndexOf(':') + 1)));
    await waitFor(() => d.logs.slice(from).filter(mine).length >= AFTER, ms(5000), 'close lines of the last reconnects');
    const lines = d.logs.slice(from).filter(mine);
    assert.equal(lines.filter((r) => r.resumed === true).length, resumedAfter);
    assert.ok(lines.every((r) => after.includes(r.worker)), `logged by ${[...new Set(lines.map((r) => r.worker))]}; workers ${after}`);
    t.diagnostic(`after the kills: ${resumedAfter}/${AFTER} resumed, by ${new Set(lines.map((r) => r.worker)).size} ` +
      `workers, ${after.filter((p) => !original.includes(p)).length} of ${WORKERS} of them replacements`);
    assert.equal(d.exited, null, 'the master is still running');
    assert.deepEqual(d.workerPids(), after, 'no worker died afterwards');
  });

test('a stored session outlives every worker: kill each in turn, the replacements resume it',
  { timeout: ms(30000) }, async (t) => {
    const d = await startTlsd({ t, config: ecCreds(), workers: WORKERS });
    const original = await d.waitWorkers(WORKERS);
    const first = await handshake(d);
    assert.equal(first.reused, false);
    // The server stores the session after it sent its Finished, so the client
    // can be done first: make sure it is stored (one resumption) and that
    // both connections are over before any kill.
    assert.equal((await handshake(d, first.session)).reused, true, 'resumes before any kill');
    await waitFor(() => d.closeLogs().length >= 2, ms(5000), 'close lines of the first two connections');
    const before = d.closeLogs().length;

    let current = original;
    for (const victim of original) {
      process.kill(victim, 'SIGKILL');
      current = await waitFor(() => {
        const pids = d.workerPids();
        return pids.length === WORKERS && !pids.includes(victim) ? pids : null;
      }, ms(8000), `a replacement for worker ${victim}`);
    }
    assert.ok(current.every((p) => !original.includes(p)), `all workers replaced: ${original} -> ${current}`);

    const N = 12;
    let resumed = 0;
    for (let i = 0; i < N; i++) if ((await handshake(d, first.session)).reused) resumed++;
    assert.ok(resumed >= N - 1, `${resumed}/${N} resumed on the replacement workers`);
    await waitFor(() => d.closeLogs().length >= before + N, ms(5000), 'close lines');
    const workers = new Set(d.closeLogs().slice(before).filter((r) => r.resumed === true).map((r) => r.worker));
    assert.ok([...workers].every((w) => current.includes(w)), `resumed by replacements only: ${[...workers]}`);
    t.diagnostic(`resumed by ${workers.size} of ${WORKERS} replacement workers`);
  });

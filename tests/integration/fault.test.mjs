// fault.test.mjs - tlsd under process faults: workers SIGKILLed under
// resumption load (shared state and counters survive, only the victims'
// connections fail), the master SIGKILLed (the workers follow it and free
// the port), a worker SIGSTOPped (the others keep serving), and fork
// failing (the supervisor retries until the workers are back).
// worker-crash.test.mjs covers a faster kill rate on the session-ID cache
// alone.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import {
  test, startTlsd, ecCreds, readFixture, tmpdir, waitFor, sleep, ms, alive, procState, echo,
} from './lib.mjs';

const TLS12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' };
// Session-ID clients refuse tickets: only the shared cache can resume them.
const KINDS = {
  id: { ...TLS12, secureOptions: crypto.constants.SSL_OP_NO_TICKET },
  ticket: TLS12,
};

// handshake(d, kind, session, rec): one TLS 1.2 handshake of <kind>
// offering <session>; rec.sock is the socket while it runs. Resolves with
// {reused, session, cert} once the handshake is done, and ends the
// connection; with rec.ownerOf (a daemon), rec.owner is the serving worker.
function handshake(d, kind, session, rec = {}) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({
      host: '127.0.0.1', port: d.port, servername: rec.servername ?? 'localhost', rejectUnauthorized: false,
      ...KINDS[kind], session,
    });
    rec.sock = s;
    const fail = (code) => (e) => {
      clearTimeout(timer);
      s.destroy();
      reject(Object.assign(e ?? new Error(code), { code: e?.code ?? code }));
    };
    const timer = setTimeout(fail('TIMEOUT'), ms(8000));
    s.once('error', fail('ERROR'));
    s.once('close', () => fail('CLOSED')());
    s.once('secureConnect', () => {
      clearTimeout(timer);
      if (rec.ownerOf) rec.owner = rec.ownerOf.ownerOf(s);
      const r = { reused: s.isSessionReused(), session: s.getSession(), cert: s.getPeerCertificate() };
      s.removeAllListeners('close');
      s.removeAllListeners('error');
      s.on('error', () => {});
      s.end();
      resolve(r);
    });
  });
}

async function stats(d) {
  const r = await d.api('GET', '/v1/stats');
  assert.equal(r.status, 200, r.text);
  return r.json;
}

// Counters that may never go down, as [name, value] of a /v1/stats answer.
function monotonic(s) {
  return [
    ['connections.total', s.connections.total],
    ...Object.entries(s.handshakes).map(([k, v]) => [`handshakes.${k}`, v]),
    ['bytes.in', s.bytes.in], ['bytes.out', s.bytes.out],
    ...s.workers.map((w, i) => [`workers[${i}].restarts`, w.restarts]),
  ];
}

const WORKERS = 4;
const KILLS = 10;
const KILL_EVERY = 2000; // ms, not stretched: the run is bounded by kills
const CLIENTS = { id: 2, ticket: 2 };
const AFTER = 20; // resumptions of each kind after the kills
const A = { key: readFixture('sni-a-key.pem').toString(), cert: readFixture('sni-a-cert.pem').toString() };

test(`SIGKILL a random worker every ${KILL_EVERY / 1000} s, ${KILLS} times, under session-ID and ticket resumption load`,
  { timeout: ms(60000) }, async (t) => {
    const d = await startTlsd({ t, config: ecCreds(), control: true, workers: WORKERS });
    const original = await d.waitWorkers(WORKERS);
    const keys = crypto.randomBytes(48).toString('base64');
    assert.equal((await d.api('PUT', '/v1/ticket-keys', { body: { keys } })).status, 200);
    const keysBefore = (await d.api('GET', '/v1/ticket-keys')).json;
    assert.equal((await d.api('POST', '/v1/contexts', { body: { hostname: 'a.example.com', ...A } })).status, 201);
    const first = {};
    for (const kind of Object.keys(KINDS)) {
      first[kind] = (await handshake(d, kind)).session;
      assert.equal((await handshake(d, kind, first[kind])).reused, true, `${kind} resumes before any kill`);
    }

    // Each connection in flight is a record; at every kill, the ones the
    // victim holds are marked doomed (their sockets are in its fd table),
    // and the ones no worker holds yet (connecting, or in the accept queue)
    // unowned: the victim may accept one before the signal lands. Any other
    // failure (a connection a surviving worker held, or one begun after
    // the kills) is unexplained.
    const inflight = new Set();
    const figures = { id: { ok: 0, resumed: 0 }, ticket: { ok: 0, resumed: 0 } };
    const failed = { doomed: 0, raced: 0, unexplained: [], codes: {} };
    const killed = [];
    const seen = { victim: 0, other: 0, none: 0 }; // owners of in-flight connections at the kills
    let running = true;

    const client = async (kind) => {
      while (running) {
        const rec = { started: Date.now() };
        inflight.add(rec);
        try {
          const r = await handshake(d, kind, first[kind], rec);
          figures[kind].ok++;
          if (r.reused) figures[kind].resumed++;
        } catch (e) {
          failed.codes[e.code] = (failed.codes[e.code] || 0) + 1;
          // raced: accepted by the victim in the moment between the look at
          // its fds and the kill (no owner seen, in flight at the kill).
          if (rec.doomed) failed.doomed++;
          else if (rec.unowned) failed.raced++;
          else failed.unexplained.push(`${kind}: ${e.code} after ${Date.now() - rec.started} ms`);
        } finally {
          inflight.delete(rec);
        }
      }
    };
    const kill = () => {
      const pids = d.workerPids();
      const victim = pids[Math.floor(Math.random() * pids.length)];
      for (const rec of inflight) {
        const owner = rec.sock?.localPort ? d.ownerOf(rec.sock) : null;
        if (owner === victim) rec.doomed = true;
        else if (owner === null) rec.unowned = true;
        seen[owner === victim ? 'victim' : owner === null ? 'none' : 'other']++;
      }
      process.kill(victim, 'SIGKILL');
      killed.push(victim);
    };

    let last = monotonic(await stats(d));
    let polls = 0;
    let maxCurrent = 0;
    const poller = async () => {
      while (running) {
        const s = await stats(d);
        const now = monotonic(s);
        for (let i = 0; i < now.length; i++) {
          assert.equal(now[i][0], last[i][0]);
          assert.ok(now[i][1] >= last[i][1], `${now[i][0]} went down: ${last[i][1]} -> ${now[i][1]}`);
        }
        // One connection per client at a time, plus server sides still closing.
        assert.ok(s.connections.current >= 0 && s.connections.current <= 4 * (CLIENTS.id + CLIENTS.ticket),
          `connections.current ${s.connections.current} with ${CLIENTS.id + CLIENTS.ticket} clients`);
        maxCurrent = Math.max(maxCurrent, s.connections.current);
        last = now;
        polls++;
        await sleep(300);
      }
    };

    const work = [
      ...Array.from({ length: CLIENTS.id }, () => client('id')),
      ...Array.from({ length: CLIENTS.ticket }, () => client('ticket')),
      poller(),
    ];
    try {
      for (let i = 0; i < KILLS; i++) {
        await sleep(KILL_EVERY);
        if (d.workerPids().length < WORKERS) await d.waitWorkers(WORKERS, ms(5000));
        kill();
      }
      await sleep(500);
    } finally {
      running = false;
      await Promise.all(work);
    }
    const during = Object.entries(figures).map(([k, f]) => `${k} ${f.resumed}/${f.ok} resumed`).join(', ');
    t.diagnostic(`during ${killed.length} kills: ${during}; failed: ${failed.doomed} held by the victim, ` +
      `${failed.raced} accepted as it died, ${failed.unexplained.length} others ${JSON.stringify(failed.codes)}; ${polls} stats polls, ` +
      `connections.current at most ${maxCurrent}; in flight at the kills: ${JSON.stringify(seen)}`);
    assert.deepEqual(failed.unexplained, [], 'only connections of killed workers fail');
    for (const [kind, f] of Object.entries(figures)) {
      assert.ok(f.ok >= 20, `only ${f.ok} ${kind} handshakes completed during the kills`);
      assert.ok(f.resumed >= 0.9 * f.ok, `${kind}: ${f.resumed}/${f.ok} resumed during the kills`);
    }

    const after = await d.waitWorkers(WORKERS, ms(5000));
    const before = await stats(d);
    assert.equal(before.workers.reduce((n, w) => n + w.restarts, 0), KILLS, 'every kill counted as one restart');
    assert.equal(before.workers.reduce((n, w) => n + w.exits.signal, 0), KILLS, 'every kill counted as a "signal" exit');
    assert.equal(before.workers.reduce((n, w) => n + w.exits.exit + w.exits.clean + w.exits.config, 0), 0);
    // A kill may land inside a record write or while a worker holds a lock:
    // whatever was recovered is counted, never more than one per kill each.
    for (const [k, n] of Object.entries(before.lock_recoveries)) assert.ok(n <= KILLS, `${k}: ${n}`);
    for (const kind of Object.keys(KINDS)) {
      let resumed = 0;
      const owners = new Set();
      for (let i = 0; i < AFTER; i++) {
        const rec = { ownerOf: d };
        const r = await handshake(d, kind, first[kind], rec);
        if (r.reused) resumed++;
        owners.add(rec.owner);
      }
      const fresh = [...owners].filter((p) => !original.includes(p)).length;
      t.diagnostic(`after the kills: ${kind} ${resumed}/${AFTER} resumed, served by ${owners.size} workers ` +
        `(${fresh} replacements)`);
      assert.ok(resumed >= AFTER - 1, `${kind}: ${resumed}/${AFTER} resumed after the kills`);
      assert.ok(owners.size >= 2 && [...owners].every((p) => after.includes(p)), `served by ${[...owners]}`);
    }
    // A worker counts a resumption once it has the client's Finished,
    // which may be after the client is done.
    await waitFor(async () => {
      const end = await stats(d);
      return end.handshakes.resumed_session_id - before.handshakes.resumed_session_id >= AFTER - 1 &&
        end.handshakes.resumed_ticket - before.handshakes.resumed_ticket >= AFTER - 1;
    }, ms(5000), '/v1/stats to count the resumptions of each kind', 200);
    assert.deepEqual((await d.api('GET', '/v1/ticket-keys')).json, keysBefore, 'ticket keys survive');
    const cns = new Set();
    for (let i = 0; i < 8; i++) cns.add((await handshake(d, 'id', undefined, { servername: 'a.example.com' })).cert.subject.CN);
    assert.deepEqual([...cns], ['a.example.com'], 'the runtime context survives');
    await waitFor(async () => (await stats(d)).connections.current === 0, ms(5000), 'no connection left open', 200);
    const listed = await d.api('GET', '/v1/connections');
    assert.deepEqual(listed.json, [], 'no connection listed');
  });

test('SIGKILL the master: its workers exit within 2 s, and a new instance binds the port at once',
  { timeout: ms(30000) }, async (t) => {
    const d = await startTlsd({ t, config: ecCreds(), workers: 2 });
    const workers = await d.waitWorkers(2);
    await handshake(d, 'id');
    const port = d.port;
    const start = Date.now();
    d.signal('SIGKILL');
    await d.waitExit();
    await waitFor(() => workers.every((p) => !alive(p)), ms(2000), 'the workers to exit');
    t.diagnostic(`workers gone ${Date.now() - start} ms after the master's SIGKILL`);
    const d2 = await startTlsd({ t, config: ecCreds(), workers: 1, args: ['--listen', `127.0.0.1:${port}`] });
    assert.equal(d2.port, port);
    assert.equal((await handshake(d2, 'id')).reused, false);
  });

// tlsd's workers share one listening socket (master/listeners.c binds it
// once, without SO_REUSEPORT; every worker accept()s on it), so the kernel
// hands a new connection only to a worker that calls accept(): a stopped
// one takes none. The connections it had already accepted wait for it.
test('SIGSTOP a worker for 5 s: every new connection is served by the others; its own wait for SIGCONT',
  { timeout: ms(30000) }, async (t) => {
    const d = await startTlsd({ t, config: ecCreds(), workers: 4 });
    const pids = await d.waitWorkers(4);
    const victim = pids[1];
    let held = null;
    for (let i = 0; i < 200 && !held; i++) {
      const s = await d.connect();
      if (d.ownerOf(s) === victim) held = s;
      else s.destroy();
    }
    assert.ok(held, 'a connection on the worker to stop');
    process.kill(victim, 'SIGSTOP');
    let ok = 0;
    let answered = false;
    const failures = [];
    const owners = new Set();
    let pending = null;
    try {
      await waitFor(() => procState(victim) === 'T', ms(2000), 'the worker to stop');
      pending = echo(held, Buffer.from('held'), ms(10000)).then((b) => {
        answered = true;
        return b.toString();
      });
      pending.catch(() => {});
      const stopAt = Date.now();
      while (Date.now() - stopAt < 5000) {
        try {
          const s = await d.connect({ timeout: ms(3000) });
          owners.add(d.ownerOf(s));
          assert.equal((await echo(s, Buffer.from('ping'))).toString(), 'ping');
          s.destroy();
          ok++;
        } catch (e) {
          failures.push(e.code || e.message);
        }
      }
      assert.equal(answered, false, 'the stopped worker answered');
    } finally {
      process.kill(victim, 'SIGCONT');
    }
    assert.equal(await pending, 'held', 'its connection is answered once it continues');
    t.diagnostic(`while one of 4 workers was stopped: ${ok} connections served by ${owners.size} workers, ` +
      `${failures.length} failed`);
    assert.deepEqual(failures, []);
    assert.ok(ok >= 20, `only ${ok} connections in 5 s`);
    assert.ok(!owners.has(victim), 'none served by the stopped worker');
    assert.deepEqual(d.workerPids(), pids, 'no worker was replaced');
    held.destroy();
  });

// The test hook TLSD_TEST_FORK_FAIL (master/supervisor.h): while the file
// it names exists, forking a worker fails with EAGAIN.
test('fork failing: a killed worker, and the new workers of a reload, come back once fork works',
  { timeout: ms(30000) }, async (t) => {
    const block = path.join(tmpdir(), 'fork-fails');
    const d = await startTlsd({ t, config: ecCreds(), workers: 2, env: { TLSD_TEST_FORK_FAIL: block } });
    const [victim] = await d.waitWorkers(2);
    const forkErrors = () => (d.stderr.match(/fork: Resource temporarily unavailable/g) || []).length;

    fs.writeFileSync(block, '');
    process.kill(victim, 'SIGKILL');
    await waitFor(() => forkErrors() >= 2, ms(5000), 'fork to fail and be retried');
    assert.equal(d.workerPids().length, 1);
    fs.rmSync(block);
    await d.waitWorkers(2, ms(5000));
    t.diagnostic(`after a kill: ${forkErrors()} failed forks, then 2 workers again`);

    // A reload tells the old workers to stop before it forks the new ones.
    const seen = forkErrors();
    fs.writeFileSync(block, '');
    d.signal('SIGHUP');
    await d.waitWorkers(0, ms(5000));
    await waitFor(() => forkErrors() >= seen + 4, ms(5000), 'the new workers\' forks to be retried');
    fs.rmSync(block);
    const back = await d.waitWorkers(2, ms(5000));
    assert.equal((await handshake(d, 'id')).reused, false);
    t.diagnostic(`after a reload: ${forkErrors() - seen} failed forks, then workers ${back}`);
    assert.equal(d.exited, null);
  });

// resumption.test.mjs - session resumption across workers and instances:
// tickets (TLS 1.2 and 1.3) with the ticket key every worker shares, and
// ticketKeys shared by two separate tlsd instances.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startTlsd, expectStartFailure, ecCreds, rsaCreds, opensslReuses, sessionFrom, resumedWith, waitFor, connectTls, echo, sleep, ms } from './lib.mjs';

const RECONNECTS = 40;

async function countResumed(port, session, opts) {
  let resumed = 0;
  for (let i = 0; i < RECONNECTS; i++) if (await resumedWith(port, session, opts)) resumed++;
  return resumed;
}

for (const version of ['TLSv1.2', 'TLSv1.3']) {
  test(`${version} tickets resume on any of 4 workers (${RECONNECTS} reconnects)`, async (t) => {
    const d = await startTlsd({ t, config: ecCreds(), workers: 4 });
    const opts = { minVersion: version, maxVersion: version };
    const session = await sessionFrom(d.port, opts);
    const resumed = await countResumed(d.port, session, opts);
    assert.ok(resumed >= RECONNECTS - 2, `${resumed}/${RECONNECTS} resumed`);
    // The access log agrees, and more than one worker did the resuming.
    await waitFor(() => d.logs.filter((r) => r.event === 'close').length >= RECONNECTS + 1, ms(3000), 'close lines');
    let lines = d.logs.filter((r) => r.event === 'close' && r.resumed === true);
    assert.equal(lines.length, resumed);
    // Sequential connections may all land on one worker (the kernel wakes
    // whichever waits): freeze it, and the others must resume the ticket.
    const busiest = lines[0]?.worker;
    if (new Set(lines.map((r) => r.worker)).size < 2 && busiest) {
      process.kill(busiest, 'SIGSTOP');
      try {
        for (let i = 0; i < 4; i++) assert.ok(await resumedWith(d.port, session, opts), `resumed with ${busiest} stopped`);
      } finally {
        process.kill(busiest, 'SIGCONT');
      }
      await waitFor(() => d.logs.filter((r) => r.event === 'close' && r.resumed === true).length >= resumed + 4,
        ms(3000), 'close lines');
      lines = d.logs.filter((r) => r.event === 'close' && r.resumed === true);
    }
    assert.ok(new Set(lines.map((r) => r.worker)).size >= 2, `resumed on workers ${[...new Set(lines.map((r) => r.worker))]}`);
  });
}

test('openssl s_client: a TLS 1.2 ticket from -sess_out resumes with -sess_in', async (t) => {
  const d = await startTlsd({ t, config: ecCreds(), workers: 4 });
  const { firstNew, reused } = await opensslReuses(d.port, ['-tls1_2'], 10);
  assert.ok(firstNew, 'the first handshake makes a new session');
  assert.ok(reused >= 9, `${reused}/10 reused`);
});

for (const version of ['TLSv1.2', 'TLSv1.3']) {
  test(`${version}: two tlsd instances with the same ticketKeys resume each other's tickets`, async (t) => {
    const ticketKeys = crypto.randomBytes(48).toString('base64');
    const a = await startTlsd({ t, config: { ...ecCreds(), ticketKeys }, workers: 1 });
    const b = await startTlsd({ t, config: { ...ecCreds(), ticketKeys }, workers: 1 });
    const other = await startTlsd({ t, config: { ...ecCreds(), ticketKeys: crypto.randomBytes(48).toString('base64') }, workers: 1 });
    const opts = { minVersion: version, maxVersion: version };
    const session = await sessionFrom(a.port, opts);
    assert.equal(await resumedWith(b.port, session, opts), true, 'same ticketKeys: resumed');
    assert.equal(await resumedWith(other.port, session, opts), false, 'other ticketKeys: full handshake');
  });
}

test('ticketKeys that are not 48 bytes of base64 stop the start naming the key', async () => {
  const r = await expectStartFailure([], { config: { ...ecCreds(), ticketKeys: Buffer.alloc(47).toString('base64') } });
  assert.match(r.stderr, /ticketKeys: decodes to 47 bytes, must be 48/);
});

test('TLS 1.3: two tickets after a full handshake, one after a resumption (as OpenSSL)', async (t) => {
  const d = await startTlsd({ t, config: rsaCreds(), workers: 1 });
  const ticketsOf = async (session) => {
    const s = await connectTls(d.port, { minVersion: 'TLSv1.3', ...(session ? { session } : {}) });
    let n = 0;
    let last = null;
    s.on('session', (sess) => {
      n++;
      last = sess;
    });
    await echo(s, 'x'); // the tickets come before the echo
    await sleep(50);
    const reused = s.isSessionReused();
    s.destroy();
    return { n, last, reused };
  };
  const full = await ticketsOf(null);
  assert.equal(full.reused, false);
  assert.equal(full.n, 2, 'tickets after a full handshake');
  const resumed = await ticketsOf(full.last);
  assert.equal(resumed.reused, true);
  assert.equal(resumed.n, 1, 'tickets after a resumption');
  const again = await ticketsOf(resumed.last);
  assert.equal(again.reused, true, 'the ticket given on resumption resumes too');
});

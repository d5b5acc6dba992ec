// session-cache.test.mjs - TLS 1.2 session IDs resume on any worker through
// the session cache in shared memory (clients that refuse tickets).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import tls from 'node:tls';
import { startTlsd, ecCreds, opensslReuses, waitFor, ms } from './lib.mjs';

const RECONNECTS = 40;
const noTicket = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', secureOptions: crypto.constants.SSL_OP_NO_TICKET };

function handshake(port, session) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false, session,
      ...noTicket }, () => {
      const result = { reused: s.isSessionReused(), session: s.getSession() };
      s.end();
      resolve(result);
    });
    s.on('data', () => {});
    s.once('error', reject);
  });
}

test(`TLS 1.2 session IDs resume on any of 4 workers (${RECONNECTS} reconnects, node, no tickets)`, async (t) => {
  const d = await startTlsd({ t, config: ecCreds(), workers: 4 });
  const first = await handshake(d.port);
  assert.equal(first.reused, false);
  let resumed = 0;
  for (let i = 0; i < RECONNECTS; i++) if ((await handshake(d.port, first.session)).reused) resumed++;
  assert.ok(resumed >= RECONNECTS - 2, `${resumed}/${RECONNECTS} resumed`);
  await waitFor(() => d.logs.filter((r) => r.event === 'close').length >= RECONNECTS + 1, ms(3000), 'close lines');
  const workers = new Set(d.logs.filter((r) => r.event === 'close' && r.resumed).map((r) => r.worker));
  assert.ok(workers.size >= 2, `resumed on ${workers.size} worker(s)`);
});

test('openssl s_client -no_ticket: -sess_out then -sess_in resumes by session ID', async (t) => {
  const d = await startTlsd({ t, config: ecCreds(), workers: 4 });
  const { firstNew, reused } = await opensslReuses(d.port, ['-tls1_2', '-no_ticket'], 10);
  assert.ok(firstNew, 'the first handshake makes a new session');
  assert.ok(reused >= 9, `${reused}/10 reused`);
});

test('sessionCache.size 0 disables the cache: session IDs never resume (control)', async (t) => {
  const d = await startTlsd({ t, config: { ...ecCreds(), sessionCache: { size: 0 } }, workers: 2 });
  const first = await handshake(d.port);
  let resumed = 0;
  for (let i = 0; i < 5; i++) if ((await handshake(d.port, first.session)).reused) resumed++;
  assert.equal(resumed, 0);
});

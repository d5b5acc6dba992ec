// clientauth.test.mjs - client certificates: requestCert, rejectUnauthorized,
// ca and crl, and what the access log says about them.
import assert from 'node:assert/strict';
import {
  test, closeOf, startTlsd, fixture, readFixture, echo, rsaCreds, readUntilEnd, ms,
} from './lib.mjs';

function authConfig(extra = {}) {
  return {
    ...rsaCreds(),
    ca: [fixture('client-ca.pem')],
    requestCert: true,
    rejectUnauthorized: true,
    ...extra,
  };
}

const alice = () => ({ key: readFixture('client-key.pem'), cert: readFixture('client-cert.pem') });
const eve = () => ({ key: readFixture('client-other-key.pem'), cert: readFixture('client-other-cert.pem') });
const mallory = () => ({ key: readFixture('client-revoked-key.pem'), cert: readFixture('client-revoked-cert.pem') });


// expectRejected(d, clientOpts): connects and expects tlsd to refuse the
// client: either the handshake fails, or (TLS 1.3, where the client finishes
// first) the connection is closed with no application data coming back.
// tlsd must log it: a clientError record, or a close record that is not
// authorized. Resolves with that record.
const rejectedRecord = (r) => r.event === 'clientError' || (r.event === 'close' && r.authorized === false);

async function expectRejected(d, clientOpts) {
  let sock;
  try {
    sock = await d.connect(clientOpts);
  } catch (e) {
    assert.match(`${e.code} ${e.message}`, /ALERT|CERTIFICATE|ECONNRESET|CLOSED_BEFORE_HANDSHAKE|disconnected|EPIPE/i);
    return d.waitForLog(rejectedRecord);
  }
  sock.write('must not be echoed');
  const r = await readUntilEnd(sock, ms(3000));
  assert.equal(r.data.length, 0, `no data echoed to a rejected client, got ${JSON.stringify(r.data.toString())}`);
  if (r.error) assert.match(`${r.error.code} ${r.error.message}`, /ALERT|CERTIFICATE|ECONNRESET|EPIPE/i);
  return d.waitForLog(rejectedRecord);
}

test('client certificate from the trusted CA is accepted and logged authorized', async (t) => {
  const d = await startTlsd({ t, config: authConfig(), workers: 1 });
  const s = await d.connect(alice());
  assert.equal((await echo(s, 'alice here')).toString(), 'alice here');
  s.end();
  const rec = await d.waitForLog(closeOf(s));
  assert.equal(rec.authorized, true);
  assert.ok(rec.authorizationError === null || rec.authorizationError === undefined || rec.authorizationError === '',
    `no authorizationError, got ${JSON.stringify(rec.authorizationError)}`);
  assert.equal(rec.closeReason, 'client-close');
});

test('client certificate from another CA is rejected', async (t) => {
  const d = await startTlsd({ t, config: authConfig(), workers: 1 });
  const rec = await expectRejected(d, eve());
  const why = rec.event === 'clientError' ? rec.error : rec.authorizationError;
  assert.equal(typeof why, 'string', `the record says why: ${JSON.stringify(rec)}`);
  assert.ok(why.length > 0);
  assert.equal(d.closeLogs().filter((r) => r.authorized === true).length, 0);
  // The server keeps serving good clients.
  const ok = await d.connect(alice());
  assert.equal((await echo(ok, 'still up')).toString(), 'still up');
  ok.destroy();
});

test('no client certificate with rejectUnauthorized is rejected', async (t) => {
  const d = await startTlsd({ t, config: authConfig(), workers: 1 });
  await expectRejected(d, {});
});

test('revoked client certificate is rejected when the CRL is loaded', async (t) => {
  const d = await startTlsd({ t, config: authConfig({ crl: [fixture('crl.pem')] }), workers: 1 });
  await expectRejected(d, mallory());
  // The CRL revokes mallory only.
  const ok = await d.connect(alice());
  assert.equal((await echo(ok, 'alice')).toString(), 'alice');
  ok.destroy();
});

test('revoked client certificate is accepted without the CRL (control)', async (t) => {
  const d = await startTlsd({ t, config: authConfig(), workers: 1 });
  const s = await d.connect(mallory());
  assert.equal((await echo(s, 'mallory')).toString(), 'mallory');
  s.end();
  const rec = await d.waitForLog(closeOf(s));
  assert.equal(rec.authorized, true);
});

test('requested but not required: untrusted client connects, logged unauthorized', async (t) => {
  const d = await startTlsd({ t, config: authConfig({ rejectUnauthorized: false }), workers: 1 });
  const s = await d.connect(eve());
  assert.equal((await echo(s, 'eve here')).toString(), 'eve here');
  s.end();
  const rec = await d.waitForLog(closeOf(s));
  assert.equal(rec.authorized, false);
  assert.equal(typeof rec.authorizationError, 'string');
  assert.ok(rec.authorizationError.length > 0, 'authorizationError says why');
});

test('requested but not required: revoked client is logged unauthorized', async (t) => {
  const d = await startTlsd({
    t, config: authConfig({ rejectUnauthorized: false, crl: [fixture('crl.pem')] }), workers: 1,
  });
  const s = await d.connect(mallory());
  assert.equal((await echo(s, 'm')).toString(), 'm');
  s.end();
  const rec = await d.waitForLog(closeOf(s));
  assert.equal(rec.authorized, false);
  assert.match(rec.authorizationError, /revoked/i);
});

test('requested but not required: no certificate at all is logged unauthorized', async (t) => {
  const d = await startTlsd({ t, config: authConfig({ rejectUnauthorized: false }), workers: 1 });
  const s = await d.connect({});
  assert.equal((await echo(s, 'anon')).toString(), 'anon');
  s.end();
  const rec = await d.waitForLog(closeOf(s));
  assert.equal(rec.authorized, false);
  assert.equal(typeof rec.authorizationError, 'string');
});

test('client certificates over TLS 1.2 too', async (t) => {
  const d = await startTlsd({ t, config: authConfig(), workers: 1 });
  const s = await d.connect({ ...alice(), maxVersion: 'TLSv1.2' });
  assert.equal(s.getProtocol(), 'TLSv1.2');
  assert.equal((await echo(s, 'v12')).toString(), 'v12');
  s.destroy();
  // In TLS 1.2 the server's verdict comes before the client's Finished.
  await assert.rejects(d.connect({ ...eve(), maxVersion: 'TLSv1.2' }),
    (e) => /ALERT|CERTIFICATE|ECONNRESET|CLOSED_BEFORE_HANDSHAKE|disconnected/i.test(`${e.code} ${e.message}`));
  await d.waitForLog(rejectedRecord);
});

// credentials.test.mjs - RSA + ECDSA side by side, encrypted keys, PKCS#12,
// DH parameters, and credential errors at start.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  test, startTlsd, expectStartFailure, fixture, echo, rsaCreds,
} from './lib.mjs';

function isRsa(peer) {
  return typeof peer.modulus === 'string' && peer.bits >= 2048 && !peer.asn1Curve;
}

function isEc(peer) {
  return (peer.asn1Curve === 'prime256v1' || peer.nistCurve === 'P-256') && peer.modulus === undefined;
}

function dualConfig() {
  return {
    key: [fixture('rsa-key.pem'), fixture('ec-key.pem')],
    cert: [fixture('rsa-cert.pem'), fixture('ec-cert.pem')],
  };
}

test('RSA and ECDSA side by side: TLS 1.2 suite picks the certificate', async (t) => {
  const d = await startTlsd({ t, config: dualConfig(), workers: 1 });
  const r = await d.connect({ ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' });
  assert.equal(r.getProtocol(), 'TLSv1.2');
  assert.equal(r.getCipher().name, 'ECDHE-RSA-AES128-GCM-SHA256');
  assert.ok(isRsa(r.getPeerCertificate()), 'RSA certificate for an RSA suite');
  assert.equal((await echo(r, 'rsa')).toString(), 'rsa');
  r.destroy();

  const e = await d.connect({ ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' });
  assert.equal(e.getCipher().name, 'ECDHE-ECDSA-AES128-GCM-SHA256');
  assert.ok(isEc(e.getPeerCertificate()), 'ECDSA P-256 certificate for an ECDSA suite');
  assert.equal((await echo(e, 'ec')).toString(), 'ec');
  e.destroy();
});

test('RSA and ECDSA side by side: TLS 1.3 signature algorithms pick the certificate', async (t) => {
  const d = await startTlsd({ t, config: dualConfig(), workers: 1 });
  const r = await d.connect({ sigalgs: 'rsa_pss_rsae_sha256:rsa_pkcs1_sha256', minVersion: 'TLSv1.3' });
  assert.equal(r.getProtocol(), 'TLSv1.3');
  assert.ok(isRsa(r.getPeerCertificate()), 'RSA certificate when only RSA sigalgs are offered');
  r.destroy();
  const e = await d.connect({ sigalgs: 'ecdsa_secp256r1_sha256', minVersion: 'TLSv1.3' });
  assert.ok(isEc(e.getPeerCertificate()), 'ECDSA certificate when only ECDSA sigalgs are offered');
  e.destroy();
});

test('an RSA-only server refuses an ECDSA-only client', async (t) => {
  const d = await startTlsd({ t, config: rsaCreds(), workers: 1 });
  await assert.rejects(
    d.connect({ ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' }),
    (e) => /HANDSHAKE_FAILURE|ALERT|ECONNRESET|CLOSED_BEFORE_HANDSHAKE|disconnected/i.test(`${e.code} ${e.message}`),
  );
});

test('encrypted PKCS#8 key with a per-key passphrase', async (t) => {
  const d = await startTlsd({
    t,
    config: { key: [{ pem: fixture('rsa-key-enc.pem'), passphrase: 'secret' }], cert: fixture('rsa-cert.pem') },
    workers: 1,
  });
  const s = await d.connect({ ca: fs.readFileSync(fixture('ca.pem')), rejectUnauthorized: true });
  assert.ok(s.authorized, 'certificate chain verifies against ca.pem');
  assert.ok(isRsa(s.getPeerCertificate()));
  assert.equal((await echo(s, 'pkcs8')).toString(), 'pkcs8');
  s.destroy();
});

test('legacy (Proc-Type: ENCRYPTED) EC key with the top-level passphrase', async (t) => {
  const d = await startTlsd({
    t,
    config: { key: fixture('ec-key-enc-legacy.pem'), cert: fixture('ec-cert.pem'), passphrase: 'secret' },
    workers: 1,
  });
  const s = await d.connect({ ca: fs.readFileSync(fixture('ca.pem')), rejectUnauthorized: true });
  assert.ok(isEc(s.getPeerCertificate()));
  assert.equal((await echo(s, 'legacy')).toString(), 'legacy');
  s.destroy();
});

test('inline PEM key and certificate', async (t) => {
  const d = await startTlsd({
    t,
    config: { key: fs.readFileSync(fixture('ec-key.pem'), 'utf8'), cert: fs.readFileSync(fixture('ec-cert.pem'), 'utf8') },
    workers: 1,
  });
  const s = await d.connect();
  assert.ok(isEc(s.getPeerCertificate()));
  s.destroy();
});

test('PKCS#12 (pfx) with passphrase', async (t) => {
  const d = await startTlsd({ t, config: { pfx: fixture('server.p12'), passphrase: 'secret' }, workers: 1 });
  const s = await d.connect({ ca: fs.readFileSync(fixture('ca.pem')), rejectUnauthorized: true });
  assert.ok(s.authorized);
  const peer = s.getPeerCertificate();
  assert.ok(isEc(peer), 'server.p12 holds the EC key and certificate');
  const expected = new (await import('node:crypto')).X509Certificate(fs.readFileSync(fixture('ec-cert.pem')));
  assert.equal(peer.fingerprint256, expected.fingerprint256);
  assert.equal((await echo(s, 'p12')).toString(), 'p12');
  s.destroy();
});

test('wrong passphrase for an encrypted key: start fails naming the key', async () => {
  const r = await expectStartFailure([], {
    config: { key: [{ pem: fixture('rsa-key-enc.pem'), passphrase: 'wrong' }], cert: fixture('rsa-cert.pem') },
  });
  assert.match(r.stderr, /\bkey\b/);
  assert.match(r.stderr, /passphrase|decrypt|password|encrypted/i);
});

test('missing passphrase for an encrypted key: start fails naming the key', async () => {
  const r = await expectStartFailure([], {
    config: { key: fixture('ec-key-enc-legacy.pem'), cert: fixture('ec-cert.pem') },
  });
  assert.match(r.stderr, /\bkey\b/);
});

test('wrong pfx passphrase: start fails naming pfx', async () => {
  const r = await expectStartFailure([], { config: { pfx: fixture('server.p12'), passphrase: 'nope' } });
  assert.match(r.stderr, /pfx/);
});

test('key that does not match its certificate: start fails', async () => {
  const r = await expectStartFailure([], { config: { key: fixture('ec-key.pem'), cert: fixture('rsa-cert.pem') } });
  assert.match(r.stderr, /\b(key|cert)\b/);
  assert.match(r.stderr, /match/i);
});

test('unreadable key file: start fails naming key and the file', async () => {
  const r = await expectStartFailure([], { config: { key: '/nonexistent/tlsd-key.pem', cert: fixture('rsa-cert.pem') } });
  assert.match(r.stderr, /\bkey\b/);
  assert.match(r.stderr, /tlsd-key\.pem/);
});

test('dhparam of 512 bits is refused at start', async () => {
  const r = await expectStartFailure([], { config: { ...rsaCreds(), dhparam: fixture('dh-small.pem') } });
  assert.match(r.stderr, /dhparam/);
  assert.match(r.stderr, /512|too small|less than 1024/i);
});

test('dhparam of 2048 bits is used for DHE suites', async (t) => {
  const d = await startTlsd({ t, config: { ...rsaCreds(), dhparam: fixture('dh2048.pem') }, workers: 1 });
  const s = await d.connect({ ciphers: 'DHE-RSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' });
  assert.equal(s.getCipher().name, 'DHE-RSA-AES128-GCM-SHA256');
  const eph = s.getEphemeralKeyInfo();
  assert.equal(eph.type, 'DH');
  assert.equal(eph.size, 2048);
  assert.equal((await echo(s, 'dhe')).toString(), 'dhe');
  s.destroy();
});

test('--key/--cert on the command line', async (t) => {
  const d = await startTlsd({ t, args: ['--key', fixture('ec-key.pem'), '--cert', fixture('ec-cert.pem')], workers: 1 });
  const s = await d.connect();
  assert.ok(isEc(s.getPeerCertificate()));
  s.destroy();
});

test('config-relative paths resolve against the config folder', async (t) => {
  const dir = fs.mkdtempSync('/tmp/tlsd-it-rel-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.copyFileSync(fixture('ec-key.pem'), `${dir}/k.pem`);
  fs.copyFileSync(fixture('ec-cert.pem'), `${dir}/c.pem`);
  fs.writeFileSync(`${dir}/tlsd.json`, JSON.stringify({ key: 'k.pem', cert: 'c.pem' }));
  const d = await startTlsd({ t, config: `${dir}/tlsd.json`, workers: 1, cwd: '/' });
  const s = await d.connect();
  assert.ok(isEc(s.getPeerCertificate()));
  s.destroy();
});

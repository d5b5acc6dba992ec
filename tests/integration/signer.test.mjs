// signer.test.mjs - the server's signatures made by OpenSSL's libcrypto (the
// default) and by GnuTLS (TLSD_SIGNER=gnutls): every signature scheme a
// client can ask of an RSA or ECDSA key, and TLS 1.2's RSA key exchange,
// completes a handshake with Node's client (which checks the server's
// signature whatever rejectUnauthorized says) and echoes.
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  test, startTlsd, expectStartFailure, echo, rsaCreds, ecCreds, tmpdir, runTool, fixture,
} from './lib.mjs';

const SIGNERS = ['openssl', 'gnutls'];

// What each RSA case offers: [label, client options, expected protocol].
const RSA_CASES = [
  ['TLS 1.3 RSA-PSS', { minVersion: 'TLSv1.3', sigalgs: 'rsa_pss_rsae_sha256' }, 'TLSv1.3'],
  ['TLS 1.3 RSA-PSS SHA-512', { minVersion: 'TLSv1.3', sigalgs: 'rsa_pss_rsae_sha512' }, 'TLSv1.3'],
  ['TLS 1.2 ECDHE, PKCS#1 v1.5 SHA-256',
    { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', sigalgs: 'rsa_pkcs1_sha256' }, 'TLSv1.2'],
  ['TLS 1.2 ECDHE, PKCS#1 v1.5 SHA-384',
    { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384', sigalgs: 'rsa_pkcs1_sha384' }, 'TLSv1.2'],
  ['TLS 1.2 RSA key exchange', { maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256' }, 'TLSv1.2'],
];

async function handshakeAndEcho(d, opts, protocol) {
  const s = await d.connect(opts);
  try {
    assert.equal(s.getProtocol(), protocol);
    assert.equal((await echo(s, 'signed')).toString(), 'signed');
  } finally {
    s.destroy();
  }
}

for (const signer of SIGNERS) {
  test(`RSA-2048 key, signer ${signer}: every scheme and the RSA key exchange`, async (t) => {
    const d = await startTlsd({ t, config: rsaCreds(), workers: 1, env: { TLSD_SIGNER: signer } });
    for (const [label, opts, protocol] of RSA_CASES) {
      await t.test(label, () => handshakeAndEcho(d, opts, protocol));
    }
  });

  test(`ECDSA keys, signer ${signer}: P-256 and P-384 in TLS 1.3 and 1.2`, async (t) => {
    const p256 = await startTlsd({ t, config: ecCreds(), workers: 1, env: { TLSD_SIGNER: signer } });
    await handshakeAndEcho(p256, { minVersion: 'TLSv1.3', sigalgs: 'ecdsa_secp256r1_sha256' }, 'TLSv1.3');
    await handshakeAndEcho(p256, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }, 'TLSv1.2');

    const dir = tmpdir();
    const key = path.join(dir, 'p384-key.pem');
    const cert = path.join(dir, 'p384-cert.pem');
    const r = await runTool('openssl', ['req', '-x509', '-nodes', '-newkey', 'ec',
      '-pkeyopt', 'ec_paramgen_curve:P-384', '-sha384', '-days', '2', '-subj', '/CN=localhost',
      '-keyout', key, '-out', cert]);
    assert.equal(r.code, 0, r.stderr);
    const p384 = await startTlsd({ t, config: { key, cert }, workers: 1, env: { TLSD_SIGNER: signer } });
    await handshakeAndEcho(p384, { minVersion: 'TLSv1.3', sigalgs: 'ecdsa_secp384r1_sha384' }, 'TLSv1.3');
    // A P-384 key cannot make the P-256-only TLS 1.3 scheme: no handshake.
    await assert.rejects(p384.connect({ minVersion: 'TLSv1.3', sigalgs: 'ecdsa_secp256r1_sha256' }));
  });
}

for (const signer of SIGNERS) {
  test(`PKCS#12 (pfx) key, signer ${signer}: TLS 1.3 and 1.2 handshakes`, async (t) => {
    const d = await startTlsd({
      t, config: { pfx: fixture('server.p12'), passphrase: 'secret' }, workers: 1, env: { TLSD_SIGNER: signer },
    });
    await handshakeAndEcho(d, { minVersion: 'TLSv1.3' }, 'TLSv1.3');
    await handshakeAndEcho(d, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }, 'TLSv1.2');
  });
}

test('TLSD_SIGNER with an unknown value: refused at start, naming it', async () => {
  const r = await expectStartFailure(['--demo'], { env: { TLSD_SIGNER: 'boringssl' } });
  assert.match(r.stderr, /TLSD_SIGNER=boringssl: unknown signer \(openssl or gnutls\)/);
});

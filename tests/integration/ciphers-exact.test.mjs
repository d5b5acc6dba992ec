// ciphers-exact.test.mjs - "ciphers" is exact, as in Node: the suites a
// client can negotiate are exactly those OpenSSL's parser selects for the
// string (less those GnuTLS lacks, DSS and CCM_8), whatever the client offers.
// Clients: openssl s_client offering one suite, or a few in its own order.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import tls from 'node:tls';
import { test, startTlsd, fixture, rsaCreds, runTool, haveTool } from './lib.mjs';

const hasTools = haveTool('openssl') && haveTool('gnutls-cli');
const skip = !hasTools && 'needs openssl and gnutls-cli';

// All three key types, so that every suite of Node's list has a certificate.
function allCreds() {
  return {
    key: [fixture('rsa-key.pem'), fixture('ec-key.pem')],
    cert: [fixture('rsa-cert.pem'), fixture('ec-cert.pem')],
    dhparam: fixture('dh2048.pem'),
  };
}

// opensslSuites(str): [{id, name}] OpenSSL offers for <str> in TLS 1.2 (its
// own expansion, security level included: what Node would offer).
function opensslSuites(str) {
  const r = spawnSync('openssl', ['ciphers', '-V', '-s', '-tls1_2', str], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').map((l) => {
    const m = /0x([0-9A-F]{2}),0x([0-9A-F]{2}) - (\S+)/.exec(l);
    return { id: `${m[1]}${m[2]}`.toLowerCase(), name: m[3] };
  });
}

// gnutlsIds(): the IANA ids of the suites this GnuTLS has.
function gnutlsIds() {
  const r = spawnSync('gnutls-cli', ['-l'], { encoding: 'utf8' });
  return new Set([...r.stdout.matchAll(/0x([0-9a-f]{2}), 0x([0-9a-f]{2})/g)].map((m) => `${m[1]}${m[2]}`));
}

// sclient(d, flags): what openssl s_client negotiates with flags (such as
// ['-tls1_2', '-cipher', X]); null when the handshake failed.
async function sclient(d, flags) {
  const r = await runTool('openssl', ['s_client', '-connect', `127.0.0.1:${d.port}`, ...flags], { input: '' });
  const m = /Cipher is (\S+)/.exec(r.stdout);
  return m && m[1] !== '(NONE)' ? m[1] : null;
}

// gnutlsKx(d, prio): the key exchange gnutls-cli reports for NORMAL:<prio>
// ("ECDHE-X25519"), null when the handshake failed.
async function gnutlsKx(d, prio) {
  const r = await runTool('gnutls-cli', ['--insecure', '--port', String(d.port), '127.0.0.1',
    '--priority', `NORMAL:${prio}`], { input: '' });
  const m = /Description: \(TLS1\.2-X\.509\)-\(([A-Z0-9-]+)\)/.exec(r.stdout);
  return m ? m[1] : null;
}

const offer12 = (d, cipher) => sclient(d, ['-tls1_2', '-cipher', `${cipher}:@SECLEVEL=0`]);
const offer13 = (d, suite) => sclient(d, ['-tls1_3', '-ciphersuites', suite]);

test('the default list: a client offering only one suite of it gets that suite, and no other', { skip, timeout: 120000 },
  async (t) => {
    const d = await startTlsd({ t, config: allCreds(), workers: 1 });
    const have = gnutlsIds();
    const rows = [];
    for (const { id, name } of opensslSuites(tls.DEFAULT_CIPHERS)) {
      const want = have.has(id) && !/CCM8|DSS/.test(name) ? name : null;
      rows.push({ name, want, got: await offer12(d, name) });
    }
    // Node's TLS 1.3 defaults are three; GnuTLS also has AES-128-CCM.
    for (const name of ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256']) {
      rows.push({ name, want: name, got: await offer13(d, name) });
    }
    rows.push({ name: 'TLS_AES_128_CCM_SHA256', want: null, got: await offer13(d, 'TLS_AES_128_CCM_SHA256') });
    t.diagnostic(JSON.stringify(rows));
    assert.ok(rows.filter((r) => r.want).length >= 20, 'most of the list is served');
    for (const r of rows) assert.equal(r.got, r.want, `${r.name}: expected ${r.want}, got ${r.got}`);
  });

test('"ciphers": one suite: a client offering another suite of the same kx is refused', { skip }, async (t) => {
  const d = await startTlsd({ t, config: { ...rsaCreds(), ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }, workers: 1 });
  assert.equal(await offer12(d, 'ECDHE-RSA-AES256-GCM-SHA384'), null, 'AES-256-GCM is not in the set');
  assert.equal(await offer12(d, 'ECDHE-RSA-CHACHA20-POLY1305'), null, 'ChaCha20 is not in the set');
  assert.equal(await offer12(d, 'ECDHE-RSA-AES128-GCM-SHA256'), 'ECDHE-RSA-AES128-GCM-SHA256');
  assert.equal(await offer12(d, 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256'),
    'ECDHE-RSA-AES128-GCM-SHA256', 'the one suite of the set the client has');
});

test('"ciphers" order: honorCipherOrder picks the server\'s first (that the credentials can serve), else the client\'s', { skip }, async (t) => {
  const ciphers = 'ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES128-SHA';
  const both = ['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES128-GCM-SHA256'];
  const on = await startTlsd({ t, config: { ...rsaCreds(), ciphers, honorCipherOrder: true }, workers: 1 });
  const off = await startTlsd({ t, config: { ...rsaCreds(), ciphers, honorCipherOrder: false }, workers: 1 });
  assert.equal(await sclient(on, both), 'ECDHE-RSA-AES256-SHA384');
  assert.equal(await sclient(off, both), 'ECDHE-RSA-AES128-SHA');
  // AES-128-GCM and SHA384 are both in the union, but not together.
  assert.equal(await offer12(on, 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384'), null);

  // The server's first suite needs an ECDSA certificate it does not have:
  // the next one it can serve is chosen.
  const rsa = await startTlsd({ t, config: { ...rsaCreds(), honorCipherOrder: true,
    ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384' }, workers: 1 });
  assert.equal(await offer12(rsa, 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384'),
    'ECDHE-RSA-AES256-GCM-SHA384');
  assert.equal(await offer12(rsa, 'ECDHE-ECDSA-AES128-GCM-SHA256'), null, 'no ECDSA certificate');

  // DHE first, no dhparam: only a client offering an RFC 7919 group gets it.
  const dhe = await startTlsd({ t, config: { ...rsaCreds(), honorCipherOrder: true,
    ciphers: 'DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256' }, workers: 1 });
  // (gnutls-cli: OpenSSL 3.0 sends no RFC 7919 group in TLS 1.2.)
  const dheOrEcdhe = '-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+DHE-RSA:+ECDHE-RSA:-CIPHER-ALL:+AES-128-GCM:-GROUP-ALL';
  assert.equal(await gnutlsKx(dhe, `${dheOrEcdhe}:+GROUP-X25519`), 'ECDHE-X25519');
  assert.equal(await gnutlsKx(dhe, `${dheOrEcdhe}:+GROUP-FFDHE2048:+GROUP-X25519`), 'DHE-FFDHE2048');
});

test('GET /v1/ciphers lists exactly the set', { skip }, async (t) => {
  const one = await startTlsd({ t, config: { ...rsaCreds(), ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' },
    control: true, workers: 1 });
  assert.deepEqual((await one.api('GET', '/v1/ciphers')).json, ['tls_aes_256_gcm_sha384',
    'tls_chacha20_poly1305_sha256', 'tls_aes_128_gcm_sha256', 'ecdhe-rsa-aes128-gcm-sha256']);

  const d = await startTlsd({ t, config: allCreds(), control: true, workers: 1 });
  const have = gnutlsIds();
  const want = ['tls_aes_256_gcm_sha384', 'tls_chacha20_poly1305_sha256', 'tls_aes_128_gcm_sha256',
    ...opensslSuites(tls.DEFAULT_CIPHERS).filter((s) => have.has(s.id) && !/CCM8|DSS/.test(s.name))
      .map((s) => s.name.toLowerCase())];
  assert.deepEqual((await d.api('GET', '/v1/ciphers')).json, want, 'OpenSSL\'s set and order, nothing more');
});

test('TLS 1.3: the suites the string names, and no others', { skip }, async (t) => {
  const ccm = await startTlsd({ t, config: { ...rsaCreds(), ciphers: 'TLS_AES_128_CCM_SHA256:HIGH' }, workers: 1 });
  assert.equal(await offer13(ccm, 'TLS_AES_128_CCM_SHA256'), 'TLS_AES_128_CCM_SHA256', 'named, it is served');
  for (const s of ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']) {
    assert.equal(await offer13(ccm, s), null, `${s}: named alone, the defaults are gone`);
  }
});

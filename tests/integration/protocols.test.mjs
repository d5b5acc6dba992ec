// protocols.test.mjs - ALPN, protocol versions and weak cipher suites, driven
// by node, openssl s_client and gnutls-cli.
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { spawnSync } from 'node:child_process';
import {
  test, closeOf, startTlsd, connectTls, rsaCreds, echo, readFixture, runTool, haveTool, sentClientHello, gotServerHello,
} from './lib.mjs';

const hasOpenssl = haveTool('openssl');
const hasGnutls = haveTool('gnutls-cli');


test('ALPN: the server preference wins', async (t) => {
  const d = await startTlsd({ t, config: { ...rsaCreds(), ALPNProtocols: ['h2', 'http/1.1'] }, workers: 1 });
  const s = await d.connect({ ALPNProtocols: ['http/1.1', 'h2'] });
  assert.equal(s.alpnProtocol, 'h2');
  assert.equal((await echo(s, 'alpn')).toString(), 'alpn');
  s.end();
  const rec = await d.waitForLog(closeOf(s));
  assert.equal(rec.alpn, 'h2');

  const h1 = await d.connect({ ALPNProtocols: ['http/1.1', 'spdy/3'] });
  assert.equal(h1.alpnProtocol, 'http/1.1');
  h1.destroy();

  const none = await d.connect({});
  assert.equal(none.alpnProtocol, false, 'no ALPN offered, none selected');
  none.destroy();
});

test('ALPN: openssl s_client sees the negotiated protocol', { skip: !hasOpenssl }, async (t) => {
  const d = await startTlsd({ t, config: { ...rsaCreds(), ALPNProtocols: ['h2', 'http/1.1'] }, workers: 1 });
  const r = await runTool('openssl', ['s_client', '-connect', `127.0.0.1:${d.port}`, '-alpn', 'http/1.1,h2',
    '-servername', 'localhost'], { input: '' });
  assert.match(r.stdout, /ALPN protocol: h2/);
});

// A TLS 1.0 / 1.1 ClientHello that node's OpenSSL can really build: checked
// against a node server that allows it, so the refusal below is tlsd's.
test('TLS 1.0 and 1.1 are refused (node client)', async (t) => {
  const legacy = tls.createServer({
    key: readFixture('rsa-key.pem'), cert: readFixture('rsa-cert.pem'),
    minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0',
  }, (s) => s.end());
  await new Promise((r) => legacy.listen(0, '127.0.0.1', r));
  t.after(() => legacy.close());
  const d = await startTlsd({ t, config: rsaCreds(), workers: 1 });
  for (const v of ['TLSv1', 'TLSv1.1']) {
    const opts = { minVersion: v, maxVersion: v, ciphers: 'DEFAULT@SECLEVEL=0' };
    const ctl = await connectTls(legacy.address().port, opts);
    assert.equal(ctl.getProtocol(), v, `control: the client can speak ${v}`);
    ctl.destroy();
    await assert.rejects(d.connect(opts), (e) => {
      assert.doesNotMatch(`${e.code} ${e.message}`, /NO_PROTOCOLS_AVAILABLE|NO_CIPHERS/);
      assert.match(`${e.code} ${e.message}`, /PROTOCOL_VERSION|HANDSHAKE_FAILURE|ALERT|ECONNRESET|CLOSED_BEFORE_HANDSHAKE|disconnected|WRONG_VERSION/i);
      return true;
    }, `${v} must be refused`);
  }
});

for (const [flag, label] of [['-tls1', 'TLS 1.0'], ['-tls1_1', 'TLS 1.1']]) {
  test(`${label} is refused (openssl s_client ${flag})`, { skip: !hasOpenssl }, async (t) => {
    const d = await startTlsd({ t, config: rsaCreds(), workers: 1 });
    const r = await runTool('openssl', ['s_client', '-connect', `127.0.0.1:${d.port}`, flag,
      '-cipher', 'DEFAULT@SECLEVEL=0', '-msg'], { input: '' });
    assert.ok(sentClientHello(r.stdout), `s_client sent a ClientHello:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`>>> ${label.replace('.', '\\.')}, Handshake[^\\n]*ClientHello`));
    assert.ok(!gotServerHello(r.stdout), `tlsd must not answer with a ServerHello:\n${r.stdout}`);
    assert.notEqual(r.code, 0, 's_client reports the failure');
    assert.doesNotMatch(r.stderr, /no protocols available|no ciphers available/);
  });
}

test('TLS 1.2 and 1.3 are accepted (openssl s_client)', { skip: !hasOpenssl }, async (t) => {
  const d = await startTlsd({ t, config: rsaCreds(), workers: 1 });
  for (const [flag, name] of [['-tls1_2', 'TLSv1.2'], ['-tls1_3', 'TLSv1.3']]) {
    const r = await runTool('openssl', ['s_client', '-connect', `127.0.0.1:${d.port}`, flag], { input: '' });
    assert.match(r.stdout, new RegExp(`New, ${name.replace('.', '\\.')}, Cipher is`), `${flag}:\n${r.stdout}\n${r.stderr}`);
  }
});

// gnutls-cli still builds 3DES and RC4 hellos; "Connecting to" shows the
// priority string was usable, an alert or a close shows tlsd refused.
function assertGnutlsRefused(r) {
  const all = `${r.stdout}\n${r.stderr}`;
  assert.match(all, /Connecting to/, `gnutls-cli got as far as connecting:\n${all}`);
  assert.doesNotMatch(all, /Handshake was completed/, `the handshake must fail:\n${all}`);
  assert.match(all, /Received alert|non-properly terminated|Error in the pull function|handshake failed|Handshake failed/i,
    `the server refused:\n${all}`);
  assert.doesNotMatch(all, /No or insufficient priorities|Syntax error at/, 'priority string accepted');
  assert.notEqual(r.code, 0);
}

for (const [cipher, label] of [['3DES-CBC', '3DES'], ['ARCFOUR-128', 'RC4']]) {
  test(`${label} suites are refused (gnutls-cli +${cipher})`, { skip: !hasGnutls }, async (t) => {
    const d = await startTlsd({ t, config: rsaCreds(), workers: 1 });
    const r = await runTool('gnutls-cli', ['--insecure', '--port', String(d.port), '127.0.0.1',
      '--priority', `NORMAL:-CIPHER-ALL:+${cipher}:-VERS-TLS1.3`], { input: '' });
    assertGnutlsRefused(r);
  });
}

// OpenSSL 3 builds usually cannot offer these any more; run only where the
// local openssl can, and then insist the refusal came from tlsd.
for (const cipher of ['DES-CBC3-SHA', 'RC4-SHA']) {
  const canOffer = hasOpenssl &&
    spawnSync('openssl', ['ciphers', `${cipher}:@SECLEVEL=0`], { encoding: 'utf8' }).status === 0;
  test(`${cipher} is refused (openssl s_client -tls1_2)`, { skip: !canOffer && `local openssl cannot offer ${cipher}` }, async (t) => {
    const d = await startTlsd({ t, config: rsaCreds(), workers: 1 });
    const r = await runTool('openssl', ['s_client', '-connect', `127.0.0.1:${d.port}`, '-tls1_2',
      '-cipher', `${cipher}:@SECLEVEL=0`, '-msg'], { input: '' });
    assert.ok(sentClientHello(r.stdout), `s_client sent a ClientHello:\n${r.stdout}\n${r.stderr}`);
    assert.ok(!gotServerHello(r.stdout), `tlsd must not answer with a ServerHello:\n${r.stdout}`);
    assert.doesNotMatch(r.stderr, /no ciphers available|no cipher match/);
    assert.notEqual(r.code, 0);
  });
}

test('TLS 1.0 is refused (gnutls-cli)', { skip: !hasGnutls }, async (t) => {
  const d = await startTlsd({ t, config: rsaCreds(), workers: 1 });
  const r = await runTool('gnutls-cli', ['--insecure', '--port', String(d.port), '127.0.0.1',
    '--priority', 'NORMAL:-VERS-ALL:+VERS-TLS1.0:+VERS-TLS1.1'], { input: '' });
  assertGnutlsRefused(r);
});

test('3DES is refused (node client, TLS 1.2)', async (t) => {
  const d = await startTlsd({ t, config: rsaCreds(), workers: 1 });
  // OpenSSL 3 may not build a 3DES hello at all; only assert when it does.
  let canOffer = true;
  try {
    tls.createSecureContext({ ciphers: 'DES-CBC3-SHA:@SECLEVEL=0' });
  } catch {
    canOffer = false;
  }
  if (!canOffer) {
    t.skip('this OpenSSL cannot offer DES-CBC3-SHA');
    return;
  }
  await assert.rejects(d.connect({ ciphers: 'DES-CBC3-SHA:@SECLEVEL=0', maxVersion: 'TLSv1.2' }),
    (e) => /HANDSHAKE_FAILURE|ALERT|ECONNRESET|CLOSED_BEFORE_HANDSHAKE|disconnected/i.test(`${e.code} ${e.message}`));
});

test('the default offer negotiates an AEAD suite with forward secrecy', async (t) => {
  const d = await startTlsd({ t, config: rsaCreds(), workers: 1 });
  const s = await d.connect({ maxVersion: 'TLSv1.2' });
  const c = s.getCipher();
  assert.equal(s.getProtocol(), 'TLSv1.2');
  assert.match(c.name, /^ECDHE-RSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
  const eph = s.getEphemeralKeyInfo();
  assert.equal(eph.type, 'ECDH');
  assert.equal(eph.name, 'X25519', 'X25519 first, as Node');
  s.destroy();
});

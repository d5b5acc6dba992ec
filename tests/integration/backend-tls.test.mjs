// backend-tls.test.mjs - TLS to the backend (backend.tls, Node's
// tls.connect options) against real TLS servers we did not write: Node's
// tls.Server and openssl s_server. Verified chains, each refusal with its
// reason, client certificates, resumption, ALPN, PROXY before the hello,
// a backend that closes or never answers; nginx (ssl) as the backend too.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { spawn } from 'node:child_process';
import {
  test, startTlsd, ecCreds, fixture, readFixture, echo, readUntilEnd, waitFor, closedPort, sleep, ms, haveTool,
  tmpdir,
} from './lib.mjs';

// tlsBackend(opts): a Node TLS echo server on 127.0.0.1:0 (key/cert: the
// test CA's "localhost" certificate unless opts say otherwise); resolves
// with {port, sessions: [{alpn, authorized, resumed, protocol}], close}.
async function tlsBackend(t, opts = {}) {
  const sessions = [];
  const server = tls.createServer({
    key: readFixture(opts.key || 'ec-key.pem'),
    cert: readFixture(opts.cert || 'ec-cert.pem'),
    ...(opts.server || {}),
  }, (s) => {
    sessions.push({ alpn: s.alpnProtocol, authorized: s.authorized, resumed: s.isSessionReused(),
      protocol: s.getProtocol(), servername: s.servername });
    s.on('error', () => {});
    if (opts.onConnection) opts.onConnection(s);
    else s.pipe(s);
  });
  server.on('tlsClientError', () => {});
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return { port: server.address().port, sessions, server };
}

function withBackend(port, tlsOpts = {}, extra = {}) {
  return {
    ...ecCreds(),
    backend: { address: `127.0.0.1:${port}`, tls: { ca: fixture('ca.pem'), ...tlsOpts }, ...extra },
  };
}

async function stats(d) {
  return (await d.api('GET', '/v1/stats')).json.backend.tls;
}

// refused(d, reason): a client's connection is closed without a byte of
// data, and tlsd says why.
async function expectRefused(d, reason) {
  const s = await d.connect();
  s.write('hello');
  const r = await readUntilEnd(s, ms(5000));
  assert.equal(r.data.length, 0, 'no byte came back');
  await waitFor(() => new RegExp(`TLS to .* refused: ${reason}`).test(d.stderr), ms(3000), `the ${reason} line`);
  assert.equal((await stats(d)).failures[reason], 1);
  s.destroy();
}

test('a verified chain: the echo goes through two TLS layers; the second connection resumes', async (t) => {
  const b = await tlsBackend(t);
  const d = await startTlsd({ t, config: withBackend(b.port), control: true, workers: 1 });
  for (let i = 0; i < 3; i++) {
    const s = await d.connect();
    assert.equal((await echo(s, `hello ${i}`)).toString(), `hello ${i}`);
    const [listed] = (await d.api('GET', '/v1/connections')).json;
    assert.deepEqual(listed.backend, {
      address: `127.0.0.1:${b.port}`,
      tls: { protocol: 'TLSv1.3', cipher: listed.backend.tls.cipher, resumed: i > 0, verified: true },
    });
    assert.match(listed.backend.tls.cipher, /^TLS_AES_|^TLS_CHACHA20/);
    s.end();
    await readUntilEnd(s);
  }
  assert.equal(b.sessions.length, 3);
  assert.equal(b.sessions[0].resumed, false);
  assert.ok(b.sessions[1].resumed && b.sessions[2].resumed, `resumed: ${b.sessions.map((x) => x.resumed)}`);
  assert.equal(b.sessions[0].protocol, 'TLSv1.3');
  const st = await stats(d);
  assert.equal(st.full, 1);
  assert.equal(st.resumed, 2);
});

test('TLS 1.2 backend: resumed too; servername is sent as SNI', async (t) => {
  const b = await tlsBackend(t, { server: { maxVersion: 'TLSv1.2' } });
  const d = await startTlsd({ t, config: withBackend(b.port, { servername: 'localhost' }), control: true, workers: 1 });
  for (let i = 0; i < 2; i++) {
    const s = await d.connect();
    assert.equal((await echo(s, 'x')).toString(), 'x');
    s.destroy();
  }
  await waitFor(() => b.sessions.length === 2, ms(3000), 'two backend sessions');
  assert.equal(b.sessions[0].protocol, 'TLSv1.2');
  assert.equal(b.sessions[0].servername, 'localhost');
  assert.equal(b.sessions[1].resumed, true);
});

test('refused: a backend certificate from an unknown CA', async (t) => {
  const b = await tlsBackend(t);
  const d = await startTlsd({ t, config: withBackend(b.port, { ca: fixture('other-ca.pem') }), control: true,
    workers: 1 });
  await expectRefused(d, 'unknown_ca');
  assert.equal(b.sessions.length, 0, 'the backend saw no finished handshake');
});

test('refused: an expired backend certificate', async (t) => {
  const b = await tlsBackend(t, { key: 'expired-key.pem', cert: 'expired-cert.pem' });
  const d = await startTlsd({ t, config: withBackend(b.port), control: true, workers: 1 });
  await expectRefused(d, 'expired');
});

test('refused: a certificate for another name (checkServerIdentity); accepted with it off', async (t) => {
  const b = await tlsBackend(t);
  const d = await startTlsd({ t, config: withBackend(b.port, { servername: 'api.internal' }), control: true,
    workers: 1 });
  await expectRefused(d, 'name_mismatch');
  const lax = await startTlsd({ t, config: withBackend(b.port, { servername: 'api.internal', checkServerIdentity: false }),
    workers: 1 });
  const s = await lax.connect();
  assert.equal((await echo(s, 'ok')).toString(), 'ok');
  s.destroy();
});

test('rejectUnauthorized false: an unverifiable backend is used anyway (as Node)', async (t) => {
  const b = await tlsBackend(t);
  const d = await startTlsd({ t, config: withBackend(b.port, { ca: fixture('other-ca.pem'), rejectUnauthorized: false }),
    workers: 1 });
  const s = await d.connect();
  assert.equal((await echo(s, 'ok')).toString(), 'ok');
  s.destroy();
});

test('a backend that requires a client certificate gets tlsd\'s', async (t) => {
  const b = await tlsBackend(t, { server: { requestCert: true, rejectUnauthorized: true, ca: readFixture('client-ca.pem') } });
  const d = await startTlsd({
    t, config: withBackend(b.port, { key: fixture('client-key.pem'), cert: fixture('client-cert.pem') }), workers: 1,
  });
  const s = await d.connect();
  assert.equal((await echo(s, 'ok')).toString(), 'ok');
  s.destroy();
  assert.equal(b.sessions[0].authorized, true);
});

test('ALPN: the backend is offered what the client negotiated', async (t) => {
  const b = await tlsBackend(t, { server: { ALPNProtocols: ['h2', 'http/1.1'] } });
  const d = await startTlsd({ t, config: { ...withBackend(b.port), ALPNProtocols: ['h2', 'http/1.1'] }, workers: 1 });
  for (const want of ['http/1.1', 'h2']) {
    const s = await d.connect({ ALPNProtocols: [want] });
    assert.equal(s.alpnProtocol, want);
    assert.equal((await echo(s, 'x')).toString(), 'x');
    s.destroy();
  }
  assert.deepEqual(b.sessions.map((x) => x.alpn), ['http/1.1', 'h2']);
});

test('openssl s_server as the backend: verified and served', async (t) => {
  const port = await closedPort();
  const p = spawn('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', fixture('ec-cert.pem'),
    '-key', fixture('ec-key.pem'), '-rev', '-quiet'], { stdio: ['pipe', 'ignore', 'ignore'] });
  t.after(() => p.kill('SIGKILL'));
  await waitFor(() => new Promise((r) => {
    const c = net.connect(port, '127.0.0.1', () => { c.destroy(); r(true); });
    c.on('error', () => r(false));
  }), ms(5000), 's_server to listen');
  const d = await startTlsd({ t, config: withBackend(port), control: true, workers: 1 });
  const s = await d.connect();
  // s_server -rev answers each line reversed.
  assert.equal((await echo(s, 'abc\n')).toString(), 'cba\n');
  s.destroy();
  assert.equal((await stats(d)).full, 1);
});

test('PROXY v2 goes before the TLS ClientHello, in cleartext (as HAProxy sends it)', async (t) => {
  let first = null;
  const raw = net.createServer((c) => {
    let got = Buffer.alloc(0);
    // The header and the ClientHello are two writes: read until both are in.
    c.on('data', (buf) => {
      got = Buffer.concat([got, buf]);
      if (got.length >= 16 && got.length > 16 + got.readUInt16BE(14)) {
        first = got;
        c.destroy();
      }
    });
  });
  await new Promise((r) => raw.listen(0, '127.0.0.1', r));
  t.after(() => raw.close());
  const d = await startTlsd({ t, config: { ...withBackend(raw.address().port), proxyProtocol: 'v2' }, workers: 1 });
  const s = await d.connect();
  s.write('x');
  await waitFor(() => first !== null, ms(3000), 'the backend to read');
  s.destroy();
  assert.equal(first.subarray(0, 12).toString('hex'), '0d0a0d0a000d0a515549540a', 'the PROXY v2 signature first');
  const hlen = 16 + first.readUInt16BE(14);
  assert.ok(first.length > hlen, 'more than the header came');
  assert.equal(first[hlen], 0x16, 'then a TLS handshake record');
});

test('a backend that closes mid-stream closes the client; one that never answers times out', async (t) => {
  const b = await tlsBackend(t, {
    onConnection: (s) => s.once('data', (d) => {
      s.write(d);
      s.end();
    }),
  });
  const d = await startTlsd({ t, config: withBackend(b.port), workers: 1 });
  const s = await d.connect();
  s.write('once');
  const r = await readUntilEnd(s, ms(5000));
  assert.equal(r.data.toString(), 'once');
  assert.ok(r.ended, 'the client saw the end');

  const silent = net.createServer(() => {});
  await new Promise((res) => silent.listen(0, '127.0.0.1', res));
  t.after(() => silent.close());
  const slow = await startTlsd({ t, config: withBackend(silent.address().port, {}, { timeout: 500 }), control: true,
    workers: 1 });
  const start = Date.now();
  const c = await slow.connect();
  c.write('x');
  const r2 = await readUntilEnd(c, ms(5000));
  assert.equal(r2.data.length, 0);
  assert.ok(Date.now() - start < ms(3000), `closed after ${Date.now() - start} ms`);
  await waitFor(() => /TLS handshake timed out/.test(slow.stderr), ms(2000), 'the timeout line');
  assert.equal((await stats(slow)).failures.handshake, 1);
  await sleep(10);
});

test('config: backend.tls keys are checked and named; --check loads the CA', async () => {
  const { runTlsd } = await import('./lib.mjs');
  const bad = await runTlsd(['--check'], { config: { ...ecCreds(), backend: { address: '127.0.0.1:1', tls: { ca: '/nonexistent/ca.pem' } } } });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /backend\.tls\.ca/);
  const unknown = await runTlsd(['--check'], { config: { ...ecCreds(), backend: { address: '127.0.0.1:1', tls: { rejectUnauthorised: true } } } });
  assert.match(unknown.stderr, /backend\.tls\.rejectUnauthorised: unknown config key/);
  const noAddr = await runTlsd(['--check'], { config: { ...ecCreds(), backend: { tls: {} } } });
  assert.match(noAddr.stderr, /backend\.address: required/);
});

// backend.tls.ciphers: Node's tls.connect "ciphers", read by OpenSSL's
// parser. The ClientHello offers GnuTLS's union of the set; a suite of the
// union outside the list, if the backend picks it, is refused.
test('backend.tls.ciphers: the listed suite is used; a suite outside the list is refused though offered', async (t) => {
  const both = 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384';
  const ok = await tlsBackend(t, { server: { maxVersion: 'TLSv1.2', ciphers: both, honorCipherOrder: true } });
  const d = await startTlsd({ t, config: withBackend(ok.port, { ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }), control: true, workers: 1 });
  const s = await d.connect();
  assert.equal((await echo(s, 'x')).toString(), 'x');
  const [listed] = (await d.api('GET', '/v1/connections')).json;
  assert.equal(listed.backend.tls.protocol, 'TLSv1.2');
  assert.equal(listed.backend.tls.cipher, 'ECDHE-ECDSA-AES128-GCM-SHA256');
  s.destroy();

  // ECDHE-ECDSA x {AES-128-GCM, AES-256-GCM} is what GnuTLS can offer for
  // this list, so ECDHE-ECDSA-AES256-GCM-SHA384 is in the ClientHello; a
  // backend that takes only it is refused after its ServerHello.
  const extra = await tlsBackend(t, { server: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' } });
  const d2 = await startTlsd({
    t, config: withBackend(extra.port, { ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384' }),
    control: true, workers: 1,
  });
  await expectRefused(d2, 'handshake');
  assert.match(d2.stderr, /backend\.tls\.ciphers: the backend chose ECDHE-ECDSA-AES256-GCM-SHA384 \(0xC0,0x2C\), which the list does not allow/);
  assert.equal(extra.sessions.length, 0, 'the backend saw no completed handshake');
});

test('backend.tls.ciphers with TLS 1.3 names only: TLS 1.3 with those suites alone, as Node', async (t) => {
  const b = await tlsBackend(t, { server: { ciphers: 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256' } });
  const d = await startTlsd({ t, config: withBackend(b.port, { ciphers: 'TLS_CHACHA20_POLY1305_SHA256' }), control: true, workers: 1 });
  const s = await d.connect();
  assert.equal((await echo(s, 'y')).toString(), 'y');
  const [listed] = (await d.api('GET', '/v1/connections')).json;
  assert.equal(listed.backend.tls.cipher, 'TLS_CHACHA20_POLY1305_SHA256');
  s.destroy();
  // A TLS 1.2-only backend has nothing in common with it.
  const old = await tlsBackend(t, { server: { maxVersion: 'TLSv1.2' } });
  const d2 = await startTlsd({ t, config: withBackend(old.port, { ciphers: 'TLS_AES_128_GCM_SHA256' }), control: true, workers: 1 });
  await expectRefused(d2, 'handshake');
});

test('config: backend.tls.ciphers is read at start; one that selects nothing is named', async () => {
  const { runTlsd } = await import('./lib.mjs');
  const none = await runTlsd(['--check'], { config: { ...ecCreds(), backend: { address: '127.0.0.1:1', tls: { ciphers: 'NOPE' } } } });
  assert.notEqual(none.code, 0);
  assert.match(none.stderr, /backend\.tls\.ciphers: OpenSSL selects no cipher suite from "NOPE"/);
  const empty = await runTlsd(['--check'], { config: { ...ecCreds(), backend: { address: '127.0.0.1:1', tls: { ciphers: '' } } } });
  assert.match(empty.stderr, /backend\.tls\.ciphers: must not be empty/);
  const good = await runTlsd(['--check'], { config: { ...ecCreds(), backend: { address: '127.0.0.1:1', tls: { ciphers: 'HIGH:!aNULL' } } } });
  assert.equal(good.code, 0, good.stderr);
  assert.equal(JSON.parse(good.stdout).backend.tls.ciphers, 'HIGH:!aNULL');
});

// nginxBackend(t, extra): nginx (http, ssl) on a free port answering every
// request with whether the session was reused and who the client was;
// resolves with its port. extra: more server-block lines.
async function nginxBackend(t, extra = '') {
  const dir = tmpdir();
  const port = await closedPort();
  fs.writeFileSync(path.join(dir, 'nginx.conf'), `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events {}
http {
  access_log off;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir};
  uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${fixture('ec-cert.pem')};
    ssl_certificate_key ${fixture('ec-key.pem')};
    ssl_session_cache shared:tlsdtest:1m;
    ${extra}
    location / { return 200 "reused=$ssl_session_reused client=$ssl_client_verify\\n"; }
  }
}
`);
  const p = spawn('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')],
    { stdio: 'ignore' });
  t.after(() => p.kill('SIGKILL'));
  await waitFor(() => new Promise((r) => {
    const c = net.connect(port, '127.0.0.1', () => { c.destroy(); r(true); });
    c.on('error', () => r(false));
  }), ms(5000), 'nginx to listen');
  return port;
}

// get(d): one HTTP/1.0 request through tlsd; the response's body.
async function get(d) {
  const s = await d.connect();
  s.write('GET / HTTP/1.0\r\nHost: localhost\r\n\r\n');
  const r = await readUntilEnd(s, ms(5000));
  s.destroy();
  const text = r.data.toString();
  return text.slice(text.indexOf('\r\n\r\n') + 4);
}

const hasNginx = haveTool('nginx');

test('nginx with ssl as the backend: verified, the second connection resumed', { skip: !hasNginx && 'no nginx' }, async (t) => {
  const port = await nginxBackend(t);
  const d = await startTlsd({ t, config: withBackend(port, { servername: 'localhost' }), control: true, workers: 1 });
  assert.equal(await get(d), 'reused=. client=NONE\n');
  assert.equal(await get(d), 'reused=r client=NONE\n');
  const st = await stats(d);
  assert.equal(st.full, 1);
  assert.equal(st.resumed, 1);
});

test('nginx refusals: unknown CA and a name mismatch, each named', { skip: !hasNginx && 'no nginx' }, async (t) => {
  const port = await nginxBackend(t);
  const unknown = await startTlsd({ t, config: withBackend(port, { ca: fixture('client-ca.pem') }), control: true, workers: 1 });
  await expectRefused(unknown, 'unknown_ca');
  const other = await startTlsd({ t, config: withBackend(port, { servername: 'other.example' }), control: true, workers: 1 });
  await expectRefused(other, 'name_mismatch');
});

test('nginx requiring a client certificate (ssl_verify_client on) gets tlsd\'s', { skip: !hasNginx && 'no nginx' }, async (t) => {
  const port = await nginxBackend(t, `ssl_verify_client on; ssl_client_certificate ${fixture('client-ca.pem')};`);
  const without = await startTlsd({ t, config: withBackend(port), control: true, workers: 1 });
  assert.match(await get(without), /400 No required SSL certificate was sent/);
  const withCert = await startTlsd({
    t, config: withBackend(port, { key: fixture('client-key.pem'), cert: fixture('client-cert.pem') }), workers: 1,
  });
  assert.equal(await get(withCert), 'reused=. client=SUCCESS\n');
});

// basic.test.mjs - demo mode, echo, listeners, --check and config errors.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  test, closeOf, startTlsd, runTlsd, expectStartFailure, rsaCreds, echo, sha256, readBytes, tmpdir, waitFor, ms,
} from './lib.mjs';

test('demo mode serves TLS and echoes', async (t) => {
  const d = await startTlsd({ t, args: ['--demo'], workers: 2 });
  assert.equal(d.ports.length, 1);
  assert.ok(d.port > 0 && d.port < 65536, `real port, got ${d.port}`);
  assert.equal(d.readyPid, d.pid, 'ready line names the master pid');
  assert.equal(d.workers, 2);
  const s = await d.connect();
  // The demo certificate is a throwaway ECDSA one for localhost.
  const peer = s.getPeerCertificate();
  assert.ok(peer.subject?.CN === 'localhost' || /DNS:localhost\b/.test(peer.subjectaltname || ''),
    `certificate for localhost, got ${JSON.stringify(peer.subject)} ${peer.subjectaltname}`);
  assert.ok(peer.asn1Curve || peer.nistCurve, `ECDSA certificate expected, got bits=${peer.bits}`);
  assert.equal(peer.modulus, undefined, 'not an RSA key');
  assert.equal(s.getProtocol(), 'TLSv1.3');
  const got = await echo(s, 'hello tlsd\n');
  assert.equal(got.toString(), 'hello tlsd\n');
  const got2 = await echo(s, 'second line\n');
  assert.equal(got2.toString(), 'second line\n');
  s.end();
  const rec = await d.waitForLog(closeOf(s));
  assert.equal(rec.bytesIn, 23);
  assert.equal(rec.bytesOut, 23);
  assert.equal(rec.protocol, 'TLSv1.3');
  assert.equal(rec.servername, 'localhost');
  assert.equal(rec.closeReason, 'client-close');
  assert.equal(typeof rec.durationMs, 'number');
  assert.ok(d.workerPids().includes(rec.worker), `worker ${rec.worker} is one of ${d.workerPids()}`);
});

test('1 MiB round trip arrives intact', async (t) => {
  const d = await startTlsd({ t, config: rsaCreds(), workers: 1 });
  const s = await d.connect();
  const data = crypto.randomBytes(1 << 20);
  const got = await echo(s, data, ms(5000));
  assert.equal(got.length, data.length);
  assert.equal(sha256(got), sha256(data));
  s.end();
  const rec = await d.waitForLog(closeOf(s));
  assert.equal(rec.bytesIn, 1 << 20);
  assert.equal(rec.bytesOut, 1 << 20);
});

test('client close_notify: echo finishes, then tlsd closes', async (t) => {
  const d = await startTlsd({ t, config: rsaCreds(), workers: 1 });
  const s = await d.connect();
  const data = crypto.randomBytes(256 * 1024);
  const chunks = [];
  let ended = false;
  s.on('data', (c) => chunks.push(c));
  s.on('end', () => {
    ended = true;
  });
  const closed = new Promise((r) => s.once('close', r));
  s.end(data); // close_notify right behind the data
  await Promise.race([closed, new Promise((_, rej) => setTimeout(() => rej(new Error('no close')), ms(4000)))]);
  const got = Buffer.concat(chunks);
  assert.equal(got.length, data.length, 'all data echoed before the close');
  assert.equal(sha256(got), sha256(data));
  assert.ok(ended, 'client saw an orderly end (close_notify/FIN), not a reset');
});

test('two --listen flags give two real ports, both serving', async (t) => {
  const d = await startTlsd({
    t, args: ['--demo', '--listen', '127.0.0.1:0', '--listen', '127.0.0.1:0'], workers: 1,
  });
  assert.equal(d.listening.length, 2, `listening lines: ${d.lines.join(' | ')}`);
  for (const l of d.listening) {
    assert.equal(l.host, '127.0.0.1');
    assert.ok(l.port > 0);
  }
  assert.notEqual(d.ports[0], d.ports[1]);
  for (const port of d.ports) {
    const s = await d.connect({ port });
    assert.equal((await echo(s, `via ${port}`)).toString(), `via ${port}`);
    s.destroy();
  }
});

// canListen6(): this machine has an IPv6 loopback to listen on.
function canListen6() {
  return new Promise((r) => {
    const srv = net.createServer();
    srv.once('error', () => r(false));
    srv.listen(0, '::1', () => srv.close(() => r(true)));
  });
}

test('IPv6 loopback listener is printed in brackets and serves', async (t) => {
  if (!(await canListen6())) {
    t.skip('no ::1 on this machine');
    return;
  }
  const d = await startTlsd({ t, args: ['--demo', '--listen', '[::1]:0'], workers: 1 });
  assert.equal(d.listening.length, 1);
  assert.equal(d.listening[0].host, '::1');
  assert.ok(/^listening \[::1\]:\d+$/.test(d.lines.find((l) => l.startsWith('listening'))));
  const s = await d.connect({ host: '::1', port: d.port });
  assert.equal((await echo(s, 'six')).toString(), 'six');
  s.destroy();
});

test('[::] listens dual-stack, as Node\'s listen(port, "::"): IPv4 and IPv6 clients both served', async (t) => {
  if (!(await canListen6())) {
    t.skip('no ::1 on this machine');
    return;
  }
  const d = await startTlsd({ t, args: ['--demo', '--listen', '[::]:0'], workers: 1 });
  for (const host of ['127.0.0.1', '::1']) {
    const s = await d.connect({ host, port: d.port });
    assert.equal((await echo(s, host)).toString(), host);
    s.destroy();
  }
});

test('--check prints the effective config and exits 0 without serving', async () => {
  const cfg = { ...rsaCreds(), ALPNProtocols: ['h2', 'http/1.1'], handshakeTimeout: 4321 };
  const r = await runTlsd(['--check'], { config: cfg });
  assert.equal(r.started, false, '--check must not start serving');
  assert.equal(r.code, 0, `exit status, stderr: ${r.stderr}`);
  assert.match(r.stdout, /handshakeTimeout/);
  assert.match(r.stdout, /4321/);
  assert.match(r.stdout, /http\/1\.1/);
  assert.doesNotMatch(r.stdout, /^ready /m, '--check must not start workers');
  assert.doesNotMatch(r.stdout, /BEGIN [A-Z ]*PRIVATE KEY/, 'no key material in the output');
});

test('--check with a broken config exits 1', async () => {
  const r = await runTlsd(['--check'], { config: { ...rsaCreds(), handshakeTimeout: 'soon' } });
  assert.equal(r.started, false);
  assert.equal(r.code, 1, `exit status; stdout ${r.stdout} stderr ${r.stderr}`);
  assert.match(r.stderr, /handshakeTimeout/);
});

test('unknown config key: exit non-zero, stderr names the key', async () => {
  const r = await expectStartFailure([], { config: { ...rsaCreds(), handshakeTimeut: 1000 } });
  assert.match(r.stderr, /handshakeTimeut/);
  assert.doesNotMatch(r.stdout, /^ready /m);
});

test('wrong value type: exit non-zero, stderr names the key', async () => {
  const r = await expectStartFailure([], { config: { ...rsaCreds(), requestCert: 'yes' } });
  assert.match(r.stderr, /requestCert/);
});

test('a config that is not JSON: exit non-zero', async () => {
  const r = await expectStartFailure([], { config: '{"key": "a.pem", ' });
  assert.ok(r.stderr.trim().length > 0, 'a diagnostic on stderr');
});

test('echo is byte-exact over many small writes on several connections', async (t) => {
  const d = await startTlsd({ t, config: rsaCreds(), workers: 2 });
  const socks = await Promise.all([0, 1, 2, 3].map(() => d.connect()));
  await Promise.all(socks.map(async (s, i) => {
    const parts = [];
    for (let k = 0; k < 50; k++) parts.push(Buffer.from(`conn${i}-msg${k};`));
    const all = Buffer.concat(parts);
    const p = readBytes(s, all.length);
    for (const part of parts) s.write(part);
    assert.equal((await p).toString(), all.toString());
    s.destroy();
  }));
});

test('accessLog to a file: JSON records there, none on stdout', async (t) => {
  const file = path.join(tmpdir(), 'access.log');
  const d = await startTlsd({ t, config: { ...rsaCreds(), accessLog: file, logFormat: 'json' }, workers: 1 });
  const s = await d.connect();
  assert.equal((await echo(s, 'to the file')).toString(), 'to the file');
  s.end();
  const port = s.clientPort;
  const rec = await waitFor(() => {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    const lines = text.split('\n').filter((l) => l.trim());
    return lines.map((l) => JSON.parse(l)).find((r) => r.event === 'close' && String(r.client).endsWith(`:${port}`));
  }, ms(3000), 'a close record in the access log file');
  assert.equal(rec.bytesIn, 11);
  assert.equal(rec.closeReason, 'client-close');
  for (const k of ['time', 'worker', 'servername', 'alpn', 'protocol', 'cipher', 'resumed', 'authorized',
    'authorizationError', 'bytesOut', 'durationMs']) {
    assert.ok(k in rec, `record has ${k}`);
  }
  assert.ok(!Number.isNaN(Date.parse(rec.time)), `time is a date: ${rec.time}`);
  assert.equal(d.logs.length, 0, 'nothing logged on stdout');
});

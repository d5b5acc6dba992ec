// handshake.test.mjs - handshakeTimeout and client-initiated renegotiation
// limits (tls.CLIENT_RENEG_LIMIT / CLIENT_RENEG_WINDOW), with openssl
// s_client and gnutls-cli as clients.
import assert from 'node:assert/strict';
import {
  test, startTlsd, rsaCreds, connectTcp, waitClose, echo, Interactive, runTool, haveTool, sleep, ms,
} from './lib.mjs';

const hasOpenssl = haveTool('openssl');
const hasGnutls = haveTool('gnutls-cli');

const timeoutRecord = (r) => (r.event === 'close' && r.closeReason === 'handshake-timeout') ||
  (r.event === 'clientError' && /time/i.test(String(r.error)));

test('handshakeTimeout closes a silent TCP client', async (t) => {
  const d = await startTlsd({ t, config: { ...rsaCreds(), handshakeTimeout: 500 }, workers: 1 });
  const start = Date.now();
  const s = await connectTcp(d.port);
  const r = await waitClose(s, ms(4000));
  const took = Date.now() - start;
  assert.equal(r.data.length, 0, 'nothing sent to a client that said nothing');
  assert.ok(took >= 400, `closed after ${took} ms, not before the timeout`);
  assert.ok(took < ms(3000), `closed after ${took} ms`);
  const rec = await d.waitForLog(timeoutRecord);
  assert.ok(rec.durationMs === undefined || rec.durationMs >= 400, `durationMs ${rec.durationMs}`);
});

test('handshakeTimeout closes a client stuck after a partial ClientHello', async (t) => {
  const d = await startTlsd({ t, config: { ...rsaCreds(), handshakeTimeout: 500 }, workers: 1 });
  const s = await connectTcp(d.port);
  const start = Date.now();
  // A TLS record header announcing 512 bytes of handshake, then nothing.
  s.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc]));
  const r = await waitClose(s, ms(4000));
  const took = Date.now() - start;
  assert.ok(took >= 400 && took < ms(3000), `closed after ${took} ms`);
  assert.ok(r.data.length === 0 || r.data[0] === 0x15, 'at most an alert record comes back');
  await d.waitForLog(timeoutRecord);
});

test('handshakeTimeout does not apply once the handshake is done', async (t) => {
  const d = await startTlsd({ t, config: { ...rsaCreds(), handshakeTimeout: 300 }, workers: 1 });
  const s = await d.connect();
  await sleep(700); // well past the handshake timeout: only elapsed time can show this
  assert.equal((await echo(s, 'still open')).toString(), 'still open');
  s.destroy();
  assert.equal(d.logs.filter(timeoutRecord).length, 0);
});

// s_client (without -quiet) renegotiates when a line starts with "R"; -msg
// lets us count ServerHellos, one per completed (re)handshake.
function sClient(port) {
  return new Interactive('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_2', '-msg']);
}

const serverHellos = (c) => (c.out.match(/<<< [^\n]*Handshake[^\n]*ServerHello\b/g) || []).length;

async function renegotiate(c, i) {
  const from = c.all.length;
  c.write('R\n');
  await c.expect(/RENEGOTIATING/, ms(3000), from);
  c.write(`ping${i}\n`);
  await c.expect(new RegExp(`^ping${i}$`, 'm'), ms(3000), from, 'out');
}

test('renegotiation limit: the renegotiation over the limit closes the connection', { skip: !hasOpenssl }, async (t) => {
  const d = await startTlsd({
    t, config: { ...rsaCreds(), renegotiation: { limit: 2, window: 600 } }, workers: 1,
  });
  const c = sClient(d.port);
  t.after(() => c.kill());
  await c.expect(/New, TLSv1\.2/, ms(3000), 0, "out");
  c.write('hello\n');
  await c.expect(/^hello$/m, ms(3000), 0, 'out');
  assert.equal(serverHellos(c), 1);
  await renegotiate(c, 1);
  assert.equal(serverHellos(c), 2, 'first renegotiation completed');
  await renegotiate(c, 2);
  assert.equal(serverHellos(c), 3, 'second renegotiation completed');
  const from = c.out.length;
  c.write('R\n');
  c.write('ping3\n');
  const exited = await Promise.race([c.done, sleep(ms(4000)).then(() => null)]);
  assert.ok(exited, `s_client still connected after the 3rd renegotiation:\n${c.err.slice(-2000)}`);
  assert.doesNotMatch(c.out.slice(from), /^ping3$/m, 'nothing echoed after the refused renegotiation');
  assert.equal(serverHellos(c), 3, 'the third renegotiation was not completed');
  const rec = await d.waitForLog((r) => r.event === 'close' && r.closeReason === 'renegotiation-limit');
  assert.equal(rec.protocol, 'TLSv1.2');
  assert.equal(rec.bytesIn, 'hello\nping1\nping2\n'.length);
});

test('renegotiation window: the count restarts after the window', { skip: !hasOpenssl }, async (t) => {
  const d = await startTlsd({
    t, config: { ...rsaCreds(), renegotiation: { limit: 1, window: 1 } }, workers: 1,
  });
  const c = sClient(d.port);
  t.after(() => c.kill());
  await c.expect(/New, TLSv1\.2/, ms(3000), 0, 'out');
  await renegotiate(c, 1);
  await sleep(1200); // the window is wall-clock time
  await renegotiate(c, 2);
  assert.equal(serverHellos(c), 3);
  assert.equal(c.exited, null, 'still connected');
  c.kill();
  assert.equal(d.logs.filter((r) => r.closeReason === 'renegotiation-limit').length, 0);
});

test('gnutls-cli: echo of a line, then the peer closes after our close_notify', { skip: !hasGnutls }, async (t) => {
  const d = await startTlsd({ t, config: rsaCreds(), workers: 1 });
  const r = await runTool('gnutls-cli', ['--insecure', '--port', String(d.port), '127.0.0.1'],
    { input: 'hello from gnutls\n', timeout: ms(5000) });
  assert.equal(r.timedOut, false, `gnutls-cli hung:\n${r.stderr}`);
  assert.match(r.stdout + r.stderr, /Handshake was completed/);
  assert.match(r.stdout, /^hello from gnutls$/m);
  assert.match(r.stdout + r.stderr, /Peer has closed the GnuTLS connection/);
  assert.equal(r.code, 0);
  const rec = await d.waitForLog((x) => x.event === 'close');
  assert.equal(rec.bytesIn, 18);
  assert.equal(rec.bytesOut, 18);
  assert.equal(rec.closeReason, 'client-close');
});

test('gnutls-cli --rehandshake within the limit succeeds', { skip: !hasGnutls }, async (t) => {
  const d = await startTlsd({
    t, config: { ...rsaCreds(), renegotiation: { limit: 2, window: 600 } }, workers: 1,
  });
  const r = await runTool('gnutls-cli', ['--insecure', '--rehandshake', '--priority', 'NORMAL:-VERS-TLS1.3',
    '--port', String(d.port), '127.0.0.1'], { input: 'after rehandshake\n', timeout: ms(5000) });
  assert.match(r.stderr + r.stdout, /ReHandshake was completed/, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /^after rehandshake$/m);
  assert.equal(r.code, 0);
});

test('renegotiation limit 0 refuses the first renegotiation', { skip: !hasGnutls }, async (t) => {
  const d = await startTlsd({
    t, config: { ...rsaCreds(), renegotiation: { limit: 0, window: 600 } }, workers: 1,
  });
  const r = await runTool('gnutls-cli', ['--insecure', '--rehandshake', '--priority', 'NORMAL:-VERS-TLS1.3',
    '--port', String(d.port), '127.0.0.1'], { input: 'x\n', timeout: ms(5000) });
  assert.match(r.stderr + r.stdout, /- Handshake was completed/);
  assert.doesNotMatch(r.stderr + r.stdout, /ReHandshake was completed/);
  assert.doesNotMatch(r.stdout, /^x$/m);
  await d.waitForLog((x) => x.event === 'close' && x.closeReason === 'renegotiation-limit');
});

test('openssl s_client -quiet: echo of lines', { skip: !hasOpenssl }, async (t) => {
  const d = await startTlsd({ t, config: rsaCreds(), workers: 1 });
  const c = new Interactive('openssl', ['s_client', '-quiet', '-connect', `127.0.0.1:${d.port}`]);
  t.after(() => c.kill());
  c.write('first line\n');
  await c.expect(/^first line$/m, ms(3000), 0, 'out');
  c.write('second line\n');
  await c.expect(/^first line\nsecond line$/m, ms(3000), 0, 'out');
  c.kill();
  const rec = await d.waitForLog((x) => x.event === 'close');
  assert.equal(rec.bytesIn, 23);
  assert.equal(rec.protocol, 'TLSv1.3');
});

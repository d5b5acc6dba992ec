// access-log.test.mjs - the access log's fields: every line carries the
// connection id GET /v1/connections shows; text (logfmt) and JSON lines carry
// the same keys in the same order; a text value that holds a space, a quote
// or '=' is quoted and escaped, so a client cannot break a line or forge a
// field.
import assert from 'node:assert/strict';
import {
  test, startTlsd, ecCreds, connectTcp, echo, waitClose, waitFor, closeOf, haveTool, runTool, ms,
} from './lib.mjs';

const CLOSE_KEYS = ['time', 'event', 'id', 'worker', 'client', 'servername', 'alpn', 'protocol', 'cipher',
  'resumed', 'authorized', 'authorizationError', 'bytesIn', 'bytesOut', 'durationMs', 'closeReason'];
const CLIENT_ERROR_KEYS = ['time', 'event', 'id', 'worker', 'client', 'error', 'alert', 'authorizationError',
  'durationMs', 'closeReason'];

// logfmt(line): [[key, value], ...] of a logfmt line, strictly: keys are
// [A-Za-z]+, a value is bare (no space, quote, '=' or backslash) or quoted
// with \" \\ \n \r \t \xHH escapes; pairs are separated by one space.
// Anything else throws.
function logfmt(line) {
  const pairs = [];
  const re = /([A-Za-z]+)=(?:"((?:[^"\\\x00-\x1f\x7f-\uffff]|\\["\\nrt]|\\x[0-9a-f]{2})*)"|([^\s"=\\]+))( |$)/y;
  let m;
  while (re.lastIndex < line.length) {
    m = re.exec(line);
    if (!m) throw new Error(`not logfmt at ${re.lastIndex}: ${JSON.stringify(line)}`);
    const value = m[2] !== undefined
      ? m[2].replace(/\\(x[0-9a-f]{2}|.)/g, (_, e) => (e[0] === 'x' ? String.fromCharCode(parseInt(e.slice(1), 16))
        : { n: '\n', r: '\r', t: '\t' }[e] ?? e))
      : m[3];
    pairs.push([m[1], value]);
    if (m[4] === '') break;
  }
  return pairs;
}

const textRecords = (d) => d.lines.filter((l) => l.startsWith('time=')).map((l) => Object.fromEntries(logfmt(l)));

// listedId(d, sock): the id GET /v1/connections gives the connection of <sock>.
async function listedId(d, sock) {
  const r = await d.api('GET', '/v1/connections');
  assert.equal(r.status, 200, r.text);
  const c = r.json.find((x) => x.remotePort === sock.clientPort);
  assert.ok(c, `connection on port ${sock.clientPort} listed: ${r.text}`);
  return c.id;
}

// notTls(d): a connection that sends garbage (a clientError line); resolves
// with its client port.
async function notTls(d) {
  const s = await connectTcp(d.port);
  s.write('GET / HTTP/1.0\r\n\r\n');
  await waitClose(s, ms(5000));
  return s.clientPort;
}

test('every access-log line carries the id GET /v1/connections shows for the connection', async (t) => {
  const d = await startTlsd({ t, config: ecCreds(), control: true, workers: 2 });
  const socks = [];
  for (let i = 0; i < 3; i++) socks.push(await d.connect());
  const ids = [];
  for (const s of socks) {
    await echo(s, 'x');
    ids.push(await listedId(d, s));
  }
  assert.equal(new Set(ids).size, 3, `ids are distinct: ${ids}`);
  for (const [i, s] of socks.entries()) {
    s.end();
    const rec = await d.waitForLog(closeOf(s), ms(5000));
    assert.equal(rec.id, ids[i]);
    assert.equal(rec.id.split('.')[0], String(rec.worker), 'the id begins with the worker pid');
  }
  const port = await notTls(d);
  const ce = await d.waitForLog((r) => r.event === 'clientError' && r.client.endsWith(`:${port}`), ms(5000));
  assert.match(ce.id, /^\d+\.\d+$/);
  assert.equal(ce.id.split('.')[0], String(ce.worker));
  assert.ok(!ids.includes(ce.id), 'a clientError line has an id of its own');
});

test('text and JSON lines carry the same keys in the same order', async (t) => {
  const keysOf = {};
  for (const format of ['json', 'text']) {
    const d = await startTlsd({ t, config: ecCreds(), workers: 1, logFormat: false, args: ['--log-format', format] });
    const s = await d.connect();
    await echo(s, 'hello');
    s.end();
    await notTls(d);
    const records = () => (format === 'json' ? d.logs : textRecords(d));
    await waitFor(() => records().some((r) => r.event === 'close') && records().some((r) => r.event === 'clientError'),
      ms(5000), `a close and a clientError line (${format})`);
    keysOf[format] = Object.fromEntries(records().map((r) => [r.event, Object.keys(r)]));
    await d.stop();
  }
  assert.deepEqual(keysOf.json, { close: CLOSE_KEYS, clientError: CLIENT_ERROR_KEYS });
  assert.deepEqual(keysOf.text, keysOf.json);
});

test('text values with spaces, quotes, = or backslashes are quoted: a client forges no field', async (t) => {
  // The ALPN value the server selects comes from its config; the client
  // offers the same. The servername GnuTLS refuses, and the line names
  // the alert "Illegal parameter", which holds a space.
  const hostile = 'a b="c" x=1\\';
  const d = await startTlsd({ t, config: { ...ecCreds(), ALPNProtocols: [hostile] }, workers: 1, logFormat: false,
    args: ['--log-format', 'text'] });
  const s = await d.connect({ ALPNProtocols: [hostile], servername: 'localhost' });
  assert.equal(s.alpnProtocol, hostile);
  await echo(s, 'hi');
  s.end();
  const close = await waitFor(() => textRecords(d).find((r) => r.event === 'close'), ms(5000), 'the close line');
  assert.deepEqual(Object.keys(close), CLOSE_KEYS);
  assert.equal(close.alpn, hostile);
  assert.equal(close.servername, 'localhost');
  assert.equal(close.authorizationError, '-');
  const line = d.lines.find((l) => l.includes('event=close'));
  assert.ok(line.includes(String.raw`alpn="a b=\"c\" x=1\\"`), line);

  if (!haveTool('openssl')) return t.skip('no openssl for a hostile servername');
  const r = await runTool('openssl', ['s_client', '-connect', `127.0.0.1:${d.port}`, '-servername',
    'evil event=close closeReason=forged', '-ign_eof'], { input: '', timeout: ms(5000) });
  assert.notEqual(r.code, null, r.stderr);
  const ce = await waitFor(() => textRecords(d).find((x) => x.event === 'clientError'), ms(5000),
    'the clientError line');
  assert.deepEqual(Object.keys(ce), CLIENT_ERROR_KEYS);
  assert.equal(ce.alert, 'Illegal parameter');
  assert.equal(ce.closeReason, 'handshake-failed');
});

// log-format.test.mjs - with logFormat "json" (in the config, or
// --log-format json) every diagnostic line is JSON, from the first one:
// errors in the config itself (an unknown key, a JSON syntax error, a
// missing certificate), a listener that cannot be bound, and --check's
// problems; --log-format on the command line wins over the file.
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  test, runTlsd, expectStartFailure, ecCreds, writeConfig,
} from './lib.mjs';

// jsonLines(stderr): every stderr line parsed; each must be a diagnostic
// line {"time","level","process","msg"} and nothing else.
function jsonLines(stderr) {
  const lines = stderr.split('\n').filter((l) => l !== '');
  assert.ok(lines.length > 0, 'some diagnostics');
  return lines.map((l) => {
    let rec;
    assert.doesNotThrow(() => {
      rec = JSON.parse(l);
    }, `a JSON line: ${l}`);
    assert.deepEqual(Object.keys(rec), ['time', 'level', 'process', 'msg'], l);
    assert.match(rec.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(rec.process, 'master');
    return rec;
  });
}

const errorsOf = (stderr) => jsonLines(stderr).filter((r) => r.level === 'error').map((r) => r.msg);

test('logFormat json in the config: its own errors are JSON lines', async () => {
  const unknown = await expectStartFailure([], { config: { ...ecCreds(), logFormat: 'json', bogusKey: 1 } });
  assert.deepEqual(errorsOf(unknown.stderr), ['config: bogusKey: unknown config key']);

  const missing = await expectStartFailure([], { config: { logFormat: 'json', key: '/nonexistent/k.pem',
    cert: '/nonexistent/c.pem' } });
  const [msg] = errorsOf(missing.stderr);
  assert.match(msg, /^config: key: \/nonexistent\/k\.pem: No such file or directory$/);

  const badValue = await expectStartFailure([], { config: { ...ecCreds(), logFormat: 'json', workers: 0 } });
  assert.match(errorsOf(badValue.stderr)[0], /^config: workers: /);
});

test('a JSON syntax error in a file that asks for logFormat json: a JSON line', async () => {
  const p = writeConfig('{\n  "logFormat": "json",\n  "workers": 2,,\n}\n');
  const r = await expectStartFailure(['-c', p]);
  const [msg] = errorsOf(r.stderr);
  assert.ok(msg.startsWith(`config: ${p}:3:`), msg);
});

test('a listener that cannot be bound: a JSON line', async () => {
  const srv = net.createServer();
  await new Promise((res) => srv.listen(0, '127.0.0.1', res));
  try {
    const { port } = srv.address();
    const r = await expectStartFailure(['--listen', `127.0.0.1:${port}`, '--control', 'off', '--demo', '--workers', '1'],
      { config: { logFormat: 'json' }, defaults: false });
    assert.ok(errorsOf(r.stderr).some((m) => m.includes(`127.0.0.1:${port}`) && /in use/.test(m)), r.stderr);
  } finally {
    srv.close();
  }
});

test('--check: problems are JSON lines on stderr, the effective config JSON on stdout', async () => {
  const r = await expectStartFailure(['--check'], {
    config: { ...ecCreds(), logFormat: 'json', accessLog: '/nonexistent/dir/access.log' },
  });
  const errs = errorsOf(r.stderr);
  assert.ok(errs.some((m) => m.startsWith('check: accessLog: ')), r.stderr);

  const ok = await runTlsd(['--check'], { config: { ...ecCreds(), logFormat: 'json' } });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).logFormat, 'json');
  if (ok.stderr !== '') jsonLines(ok.stderr);
});

test('--log-format on the command line wins over the file, both ways', async () => {
  const json = await expectStartFailure(['--log-format', 'json'], { config: { ...ecCreds(), logFormat: 'text',
    bogusKey: 1 } });
  assert.deepEqual(errorsOf(json.stderr), ['config: bogusKey: unknown config key']);

  const text = await expectStartFailure(['--log-format', 'text'], { config: { ...ecCreds(), logFormat: 'json',
    bogusKey: 1 } });
  assert.match(text.stderr, /^\S+Z error master: config: bogusKey: unknown config key$/m);
  assert.ok(!text.stderr.includes('{"'), text.stderr);
});

test('without logFormat, or with a logFormat that is not a format, errors stay text', async () => {
  const plain = await expectStartFailure([], { config: { ...ecCreds(), bogusKey: 1 } });
  assert.match(plain.stderr, /^\S+Z error master: config: bogusKey: unknown config key$/m);

  const bad = await expectStartFailure([], { config: { ...ecCreds(), logFormat: 'yaml' } });
  assert.match(bad.stderr, /^\S+Z error master: config: logFormat: /m);
});

// local-hardening.test.mjs - what a local user or a control-API client
// could do to tlsd through files: a state dir others may write, a planted
// or loose control token, a FIFO or /dev/zero given as a key, an existence
// oracle in the API's errors, a passphrase left in ps, and hostnames too
// long for a file name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  startTlsd, ecCreds, connectTls, fixture, readFixture, tmpdir, ms, rssKiB, runTlsd, expectStartFailure,
} from './lib.mjs';

const A = { key: readFixture('sni-a-key.pem').toString(), cert: readFixture('sni-a-cert.pem').toString() };

function mkfifo(p) {
  execFileSync('mkfifo', [p]);
  return p;
}

// unblock(fifo): opens <fifo> for writing and closes it, so a reader stuck
// in open() or read() gets EOF (nothing happens when nobody reads).
function unblock(fifo) {
  try {
    fs.closeSync(fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
  } catch {
    /* no reader */
  }
}

// ------------------------------------------------------------- state dir

test('a state dir that others may write is refused at start, naming it', async () => {
  const stateDir = path.join(tmpdir(), 'state');
  fs.mkdirSync(stateDir);
  fs.chmodSync(stateDir, 0o777);
  const r = await expectStartFailure(['--state-dir', stateDir, ...ecArgs()]);
  assert.match(r.stderr, new RegExp(`${stateDir}: writable by group or others \\(mode 0777\\)`));
});

test('a file in the state dir that others may write, or a symbolic link there, is refused at start', async () => {
  const stateDir = path.join(tmpdir(), 'state');
  fs.mkdirSync(stateDir, { mode: 0o700 });
  fs.mkdirSync(path.join(stateDir, 'contexts'), { mode: 0o700 });
  const loose = path.join(stateDir, 'contexts', 'a.example.com.json');
  fs.writeFileSync(loose, '{}', { mode: 0o666 });
  fs.chmodSync(loose, 0o666);
  let r = await expectStartFailure(['--state-dir', stateDir, ...ecArgs()]);
  assert.match(r.stderr, new RegExp(`${loose}: writable by group or others`));
  fs.unlinkSync(loose);
  const victim = path.join(tmpdir(), 'victim');
  fs.writeFileSync(victim, 'precious\n');
  fs.symlinkSync(victim, path.join(stateDir, 'ticket-keys'));
  r = await expectStartFailure(['--state-dir', stateDir, ...ecArgs()]);
  assert.match(r.stderr, /ticket-keys: a symbolic link/);
  assert.equal(fs.readFileSync(victim, 'utf8'), 'precious\n');
});

test('a symbolic link as control.token is refused; a token others may read is made 0600 with a warning', async (t) => {
  const stateDir = path.join(tmpdir(), 'state');
  fs.mkdirSync(stateDir, { mode: 0o700 });
  const tokenFile = path.join(tmpdir(), 'elsewhere.token');
  fs.writeFileSync(tokenFile, 'planted-token\n', { mode: 0o600 });
  const link = path.join(tmpdir(), 'link.token');
  fs.symlinkSync(tokenFile, link);
  const r = await expectStartFailure(['--control', '127.0.0.1:0', '--state-dir', stateDir, ...ecArgs()],
    { config: { control: { tokenFile: link } }, defaults: false });
  assert.match(r.stderr, /link\.token: a symbolic link/);

  const token = path.join(stateDir, 'control.token');
  fs.writeFileSync(token, 'loose-token\n');
  fs.chmodSync(token, 0o644);
  const d = await startTlsd({ t, config: ecCreds(), control: true, stateDir, workers: 1 });
  assert.equal(fs.statSync(token).mode & 0o777, 0o600);
  assert.match(JSON.stringify(d.logs) + d.stderr, /mode 0644 lets others read the token/);
  assert.equal((await d.api('GET', '/v1/contexts', { token: 'loose-token' })).status, 200);
});

// A stateDir before start: tlsd writes ticket keys through a temporary file;
// one planted under the name the old code used is never followed.
test('rotating ticket keys never writes through a planted temporary name', async (t) => {
  const stateDir = path.join(tmpdir(), 'state');
  const d = await startTlsd({ t, config: ecCreds(), control: true, stateDir, workers: 1 });
  const victim = path.join(tmpdir(), 'victim');
  fs.writeFileSync(victim, 'precious\n');
  fs.symlinkSync(victim, path.join(stateDir, `ticket-keys.tmp.${d.pid}`));
  const r = await d.api('POST', '/v1/ticket-keys/rotate');
  assert.ok(r.status < 300, r.text);
  assert.equal(fs.readFileSync(victim, 'utf8'), 'precious\n');
  assert.ok(!fs.lstatSync(path.join(stateDir, 'ticket-keys')).isSymbolicLink());
  fs.unlinkSync(path.join(stateDir, `ticket-keys.tmp.${d.pid}`));
});

// ------------------------------------------------------- files as keys

function ecArgs() {
  return ['--key', fixture('ec-key.pem'), '--cert', fixture('ec-cert.pem')];
}

test('a FIFO as key in POST /v1/contexts is refused at once; the API and SIGTERM still work', async (t) => {
  const fifo = mkfifo(path.join(tmpdir(), 'key.fifo'));
  const d = await startTlsd({ t, config: ecCreds(), control: true, workers: 1 });
  const t0 = Date.now();
  let r;
  try {
    r = await d.api('POST', '/v1/contexts', { body: { hostname: 'f.example.com', key: fifo, cert: A.cert } })
      .catch((e) => ({ status: 0, text: `no answer: ${String(e).slice(0, 120)}` }));
  } finally {
    unblock(fifo);
  }
  const took = Date.now() - t0;
  console.log(`# FIFO as key: answered ${r.status} in ${took} ms`);
  assert.equal(r.status, 400, r.text);
  assert.ok(took < ms(2000), `answered in ${took} ms`);
  assert.equal((await d.api('GET', '/v1/contexts')).status, 200);
});

test('/dev/zero as key in POST /v1/contexts is refused without growing the master', async (t) => {
  const d = await startTlsd({ t, config: ecCreds(), control: true, workers: 1 });
  const before = rssKiB(d.pid);
  const r = await d.api('POST', '/v1/contexts', { body: { hostname: 'z.example.com', key: '/dev/zero', cert: A.cert } })
    .catch((e) => ({ status: 0, text: `no answer: ${String(e).slice(0, 120)}` }));
  const after = rssKiB(d.pid);
  console.log(`# /dev/zero as key: ${r.status}; master RSS ${before} -> ${after} KiB`);
  assert.equal(r.status, 400, r.text);
  assert.ok(after - before < 32 * 1024, `master RSS grew ${after - before} KiB`);
});

test('--check with "key": "/dev/zero" or a FIFO ends at once with an error naming the file', async () => {
  const fifo = mkfifo(path.join(tmpdir(), 'key.fifo'));
  for (const key of ['/dev/zero', fifo]) {
    const t0 = Date.now();
    let r;
    try {
      r = await runTlsd(['--check'], { config: { key, cert: fixture('ec-cert.pem') }, timeout: ms(5000) })
        .catch((e) => ({ code: null, stderr: String(e).slice(0, 200) }));
    } finally {
      unblock(fifo);
    }
    console.log(`# --check with key ${key}: exit ${r.code} in ${Date.now() - t0} ms`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`key\\[0\\]: ${key}: not a regular file`));
  }
});

test('a file larger than 1 MiB is refused', async () => {
  const big = path.join(tmpdir(), 'big.pem');
  fs.writeFileSync(big, Buffer.concat([readFixture('ec-cert.pem'), Buffer.alloc(1024 * 1024, 0x0a)]));
  const r = await runTlsd(['--check'], { config: { key: fixture('ec-key.pem'), cert: big } });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /cert\[0\]: .*big\.pem: larger than 1 MiB/);
});

test('POST /v1/contexts says the same for a missing, unreadable, special or wrong file', async (t) => {
  const d = await startTlsd({ t, config: ecCreds(), control: true, workers: 1 });
  const dir = tmpdir();
  const fifo = mkfifo(path.join(dir, 'k.fifo'));
  const paths = ['/nonexistent/key.pem', dir, '/dev/zero', fifo, '/etc/passwd', fixture('ec-cert.pem')];
  const messages = new Set();
  try {
    for (const key of paths) {
      const r = await d.api('POST', '/v1/contexts', { body: { hostname: 'o.example.com', key, cert: A.cert } });
      assert.equal(r.status, 400, `${key}: ${r.text}`);
      messages.add(r.json.error.message);
    }
  } finally {
    unblock(fifo);
  }
  assert.equal(messages.size, 1, [...messages].join('\n'));
  assert.doesNotMatch([...messages][0], /No such file|directory|not a PEM/i);
});

// ------------------------------------------------------------ passphrase

function cmdlines(d) {
  return [d.pid, ...d.workerPids()].map((pid) => fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1'));
}

test('--passphrase is wiped from ps in the master and the workers', async (t) => {
  const secret = 'secret';
  const d = await startTlsd({
    t, args: ['--key', fixture('rsa-key-enc.pem'), '--cert', fixture('rsa-cert.pem'), '--passphrase', secret], workers: 2,
  });
  await d.waitWorkers(2);
  const lines = cmdlines(d);
  assert.equal(lines.length, 3);
  for (const line of lines) assert.ok(!line.split('\0').includes(secret), line.replaceAll('\0', ' '));
  const s = await connectTls(d.port);
  s.destroy();
});

test('--passphrase-file and TLSD_PASSPHRASE unlock an encrypted key', async (t) => {
  const file = path.join(tmpdir(), 'pass');
  fs.writeFileSync(file, 'secret\n', { mode: 0o600 });
  const keyArgs = ['--key', fixture('rsa-key-enc.pem'), '--cert', fixture('rsa-cert.pem')];
  const a = await startTlsd({ t, args: [...keyArgs, '--passphrase-file', file], workers: 1 });
  (await connectTls(a.port)).destroy();
  const b = await startTlsd({ t, args: keyArgs, env: { TLSD_PASSPHRASE: 'secret' }, workers: 1 });
  (await connectTls(b.port)).destroy();
  assert.ok(!fs.readFileSync(`/proc/${b.pid}/environ`, 'latin1').includes('TLSD_PASSPHRASE=secret'));
  const r = await runTlsd(['--check', ...keyArgs, '--passphrase-file', path.join(tmpdir(), 'none')]);
  assert.match(r.stderr, /--passphrase-file: .*none: No such file/);
});

// ------------------------------------------------------ long hostnames

// 253 characters, the longest DNS name: four labels and "com".
const LONG_HOST = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.com`;

test('a 253-character hostname is added, listed, kept across a restart and removed', async (t) => {
  const host = LONG_HOST;
  assert.equal(host.length, 253);
  const stateDir = path.join(tmpdir(), 'state');
  const a = await startTlsd({ t, config: ecCreds(), control: true, stateDir, workers: 1 });
  const r = await a.api('POST', '/v1/contexts', { body: { hostname: host, ...A } });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual((await a.api('GET', '/v1/contexts')).json.map((c) => c.hostname), [host]);
  const s = await connectTls(a.port, { servername: host });
  assert.equal(s.getPeerCertificate().subject.CN, 'a.example.com');
  s.destroy();
  await a.stop();

  const b = await startTlsd({ t, config: ecCreds(), control: true, stateDir, workers: 1 });
  assert.deepEqual((await b.api('GET', '/v1/contexts')).json.map((c) => c.hostname), [host]);
  const s2 = await connectTls(b.port, { servername: host });
  assert.equal(s2.getPeerCertificate().subject.CN, 'a.example.com');
  s2.destroy();
  assert.equal((await b.api('DELETE', `/v1/contexts/${host}`)).status, 204);
  assert.deepEqual((await b.api('GET', '/v1/contexts')).json, []);
  assert.deepEqual(fs.readdirSync(path.join(stateDir, 'contexts')), []);
});

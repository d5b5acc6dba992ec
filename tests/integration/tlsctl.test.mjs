// tlsctl.test.mjs - the built tlsctl against a started tlsd: every command,
// human output and --json, a context added and removed, reload through the
// pid file, stop, stats' per-context, worker-exit, lock-recovery and
// backend lines, health with and without --backend, and the exit status
// for each kind of failure (docs/tlsctl.1: 0 done, 1 usage or unhealthy,
// 2 no answer, 3 token refused, 4 request refused, 5 server error).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  test, BIN, startTlsd, tmpdir, fixture, writeConfig, waitFor, closedPort, ms, ecCreds, echo, waitClose,
} from './lib.mjs';

const TLSCTL = process.env.TLSCTL_BIN || path.join(path.dirname(BIN), 'tlsctl');

// tlsctl(args, {cwd}): runs it to the end; {code, stdout, stderr}.
function tlsctl(args, opts = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(TLSCTL, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8');
    p.stderr.setEncoding('utf8');
    p.stdout.on('data', (s) => (stdout += s));
    p.stderr.on('data', (s) => (stderr += s));
    const timer = setTimeout(() => p.kill('SIGKILL'), ms(15000));
    p.on('error', reject);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal) reject(new Error(`tlsctl ${args.join(' ')} died of ${signal}\n${stderr}`));
      else resolve({ code, stdout, stderr });
    });
  });
}

// ok(args): tlsctl must exit 0; returns its stdout.
async function ok(args, opts) {
  const r = await tlsctl(args, opts);
  assert.equal(r.code, 0, `tlsctl ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  assert.equal(r.stderr, '', `tlsctl ${args.join(' ')} wrote to stderr`);
  return r.stdout;
}

async function okJson(args, opts) {
  return JSON.parse(await ok(['--json', ...args], opts));
}

async function started(t, extra = {}) {
  const d = await startTlsd({ t, args: ['--demo'], control: true, workers: 1, ...extra });
  return { d, at: ['--control', d.control, '--state-dir', d.stateDir] };
}

test('stats, connections, ticket-keys, contexts, max-connections: tables, and --json as the server sends it', async (t) => {
  const { d, at } = await started(t);
  const sock = await d.connect({ servername: 'localhost' });

  const stats = await ok([...at, 'stats']);
  assert.match(stats, /^uptime +\d+ s$/m);
  assert.match(stats, /^connections +1 open, 1 total, 0 rejected/m);
  assert.match(stats, /^WORKER +PID +OPEN +ACCEPTED +RESTARTS +EXITS$/m);
  assert.match(stats, new RegExp(`^1 +${d.workerPids()[0]} +1 +1 +0 +none$`, 'm'));
  const statsJson = await okJson([...at, 'stats']);
  assert.deepEqual(Object.keys(statsJson), Object.keys((await d.api('GET', '/v1/stats')).json));
  assert.equal(statsJson.connections.current, 1);

  const listed = await waitFor(async () => {
    const list = await okJson([...at, 'connections']);
    return list.length === 1 && list[0].state === 'open' ? list : null;
  }, ms(3000), 'the connection listed');
  assert.equal(listed[0].remotePort, sock.localPort);
  const conns = (await ok([...at, 'connections'])).split('\n');
  assert.match(conns[0], /^ID +STATE +REMOTE +SNI +PROTOCOL +CIPHER +IN +OUT +STARTED$/);
  assert.match(conns[1], new RegExp(`^${listed[0].id.replace('.', '\\.')} +open +127\\.0\\.0\\.1:${sock.localPort} ` +
    `+localhost +TLSv1\\.3 +TLS_\\S+ +0 +0 +\\d{4}-`));
  sock.destroy();

  const ring = (await d.api('GET', '/v1/ticket-keys')).json;
  const keys = await ok([...at, 'ticket-keys']);
  assert.match(keys, new RegExp(`^generation ${ring.generation}$`, 'm'));
  for (const e of ring.ring) assert.match(keys, new RegExp(`^${e.id} +${e.state} +${e.createdAt}$`, 'm'));
  assert.ok(!keys.includes(ring.keys), 'the table shows no key material');
  assert.deepEqual(await okJson([...at, 'ticket-keys']), ring, '--json is the server\'s answer');

  assert.match(await ok([...at, 'contexts']), /^no contexts/);
  assert.deepEqual(await okJson([...at, 'contexts']), []);

  assert.equal(await ok([...at, 'max-connections']), 'max connections: unlimited\n');
  assert.equal(await ok([...at, 'max-connections', '250']), 'max connections: 250\n');
  assert.deepEqual(await okJson([...at, 'max-connections']), { maxConnections: 250 });
  assert.equal((await d.api('GET', '/v1/max-connections')).json.maxConnections, 250);
});

test('ticket-keys rotate moves the ring on a generation', async (t) => {
  const { d, at } = await started(t);
  const before = (await d.api('GET', '/v1/ticket-keys')).json;
  assert.equal(await ok([...at, 'ticket-keys', 'rotate']), `ticket keys rotated: generation ${before.generation + 1}\n`);
  const after = (await d.api('GET', '/v1/ticket-keys')).json;
  assert.equal(after.generation, before.generation + 1);
  assert.equal(after.ring.find((e) => e.state === 'active').id, before.ring.find((e) => e.state === 'next').id);
  assert.deepEqual(await okJson([...at, 'ticket-keys', 'rotate']), { generation: before.generation + 2 });
});

test('contexts add and rm: a round trip, relative paths from tlsctl\'s folder, a passphrase file', async (t) => {
  const { d, at } = await started(t);
  const dir = path.dirname(fixture('sni-a-key.pem'));
  const added = await ok([...at, 'contexts', 'add', 'shop.example.com', '--key', 'sni-a-key.pem',
    '--cert', 'sni-a-cert.pem'], { cwd: dir });
  assert.match(added, /^HOSTNAME +SOURCE +KEY +SUBJECT +VALID UNTIL$/m);
  assert.match(added, /^shop\.example\.com +api +EC +CN=a\.example\.com +\S/m);
  const listed = (await d.api('GET', '/v1/contexts')).json;
  assert.deepEqual(listed.map((c) => c.hostname), ['shop.example.com']);
  assert.match(await ok([...at, 'contexts']), /^shop\.example\.com +api +EC /m);
  // expiresIn counts down by the second: the rest must be the same.
  const still = ({ expiresIn, ...cert }) => cert;
  assert.deepEqual((await okJson([...at, 'contexts']))[0].certificates.map(still), listed[0].certificates.map(still));

  const pass = path.join(tmpdir(), 'pass');
  fs.writeFileSync(pass, 'secret\n', { mode: 0o600 });
  await ok([...at, 'contexts', 'add', '*.example.org', '--key', fixture('rsa-key-enc.pem'),
    '--cert', fixture('rsa-cert.pem'), '--passphrase-file', pass]);

  // "*": the default certificate (setSecureContext), through the same commands.
  assert.match(await ok([...at, 'contexts', 'add', '*', '--key', 'sni-a-key.pem', '--cert', 'sni-a-cert.pem'],
    { cwd: dir }), /^\* +api +EC +CN=a\.example\.com +\S/m);
  assert.equal((await d.api('GET', '/v1/secure-context')).json.source, 'api');
  const noSni = await d.connect({ servername: '' });
  assert.equal(noSni.getPeerCertificate().subject.CN, 'a.example.com', 'no SNI: the "*" context');
  noSni.destroy();
  assert.equal(await ok([...at, 'contexts', 'rm', '*']), 'removed context *\n');
  assert.equal((await d.api('GET', '/v1/secure-context')).json.source, 'config');

  assert.equal(await ok([...at, 'contexts', 'rm', 'shop.example.com']), 'removed context shop.example.com\n');
  assert.equal(await ok([...at, 'contexts', 'rm', '*.example.org']), 'removed context *.example.org\n');
  assert.deepEqual((await d.api('GET', '/v1/contexts')).json, []);

  const again = await tlsctl([...at, 'contexts', 'rm', 'shop.example.com']);
  assert.equal(again.code, 4, 'a 404 is a refused request');
  assert.match(again.stderr, /DELETE \/v1\/contexts\/shop\.example\.com: 404 not_found: /);
  const bad = await tlsctl([...at, 'contexts', 'add', 'x.example.com', '--key', fixture('rsa-key.pem'),
    '--cert', fixture('ec-cert.pem')]);
  assert.equal(bad.code, 4, bad.stderr);
  assert.match(bad.stderr, /POST \/v1\/contexts: 400 bad_field: /);
});

test('-c reads control.listen, stateDir and pidFile from tlsd\'s config; reload sends SIGHUP', async (t) => {
  const dir = tmpdir();
  const sock = path.join(dir, 'ctl.sock');
  const cfg = writeConfig({ demo: true, stateDir: 'state', pidFile: 'tlsd.pid', control: { listen: `unix:${sock}` } });
  const d = await startTlsd({ t, config: cfg, workers: 1, args: ['--control', `unix:${sock}`] });
  const stats = await okJson(['-c', cfg, 'stats']);
  assert.equal(stats.workers.length, 1);

  const reload = await ok(['-c', cfg, 'reload']);
  assert.equal(reload, `sent SIGHUP to tlsd (pid ${d.pid}): it reloads its config; the outcome is in its log\n`);
  d.signalsSent.add('SIGHUP');
  await waitFor(() => /SIGHUP: configuration reloaded/.test(d.stderr), ms(5000), 'the reload');
  assert.deepEqual(await okJson(['-c', cfg, 'reload']), { signal: 'SIGHUP', pid: d.pid });
});

test('stop: POST /v1/close, tlsd exits 0 and its pid file goes; reload then has no tlsd to signal', async (t) => {
  const pidFile = path.join(tmpdir(), 'tlsd.pid');
  const { d, at } = await started(t, { args: ['--demo', '--pid-file', pidFile] });
  assert.match(await ok([...at, 'stop']), /^tlsd is stopping/);
  assert.deepEqual(await d.waitExit(ms(5000)), { code: 0, signal: null });
  const gone = await tlsctl([...at, '--pid-file', pidFile, 'reload']);
  assert.equal(gone.code, 2, 'the pid file went with tlsd');
  assert.equal((await tlsctl([...at, 'stats'])).code, 2, 'nothing listens any more');
});

test('-c over TCP: the token from the config\'s stateDir; --token-file picks another', async (t) => {
  const dir = tmpdir();
  const cfg = writeConfig({ demo: true, stateDir: path.join(dir, 'state'), control: { listen: '127.0.0.1:0' } });
  const d = await startTlsd({ t, config: cfg, workers: 1, control: true, stateDir: path.join(dir, 'state') });
  // The config says port 0: tlsctl cannot guess the port tlsd picked.
  const zero = await tlsctl(['-c', cfg, 'stats']);
  assert.equal(zero.code, 1);
  assert.match(zero.stderr, /port 0/);
  await ok(['-c', cfg, '--control', d.control, 'ticket-keys']);

  const ro = path.join(dir, 'state', 'control-readonly.token');
  await ok(['-c', cfg, '--control', d.control, '--token-file', ro, 'stats']);
  const refused = await tlsctl(['-c', cfg, '--control', d.control, '--token-file', ro, 'ticket-keys', 'rotate']);
  assert.equal(refused.code, 3, 'the read-only token on a write');
  assert.match(refused.stderr, /403 admin_token_required/);
});

test('exit status: 3 for a wrong token, 2 when no server answers, 1 for usage', async (t) => {
  const { d } = await started(t);
  const wrong = path.join(tmpdir(), 'wrong.token');
  fs.writeFileSync(wrong, 'not-the-token\n', { mode: 0o600 });
  const r = await tlsctl(['--control', d.control, '--token-file', wrong, 'stats']);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /401 unauthorized: wrong token \(sent the token in .*wrong\.token\)/);
  assert.equal(r.stdout, '');
  const asJson = await tlsctl(['--json', '--control', d.control, '--token-file', wrong, 'stats']);
  assert.equal(asJson.code, 3);
  assert.equal(JSON.parse(asJson.stdout).error.code, 'unauthorized', '--json prints the error object too');

  const port = await closedPort();
  const none = await tlsctl(['--control', `127.0.0.1:${port}`, '--token-file', wrong, 'stats']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /GET \/v1\/stats: http:\/\/127\.0\.0\.1:\d+: /);
  const noSock = await tlsctl(['--control', `unix:${path.join(tmpdir(), 'none.sock')}`, 'connections']);
  assert.equal(noSock.code, 2);

  for (const args of [[], ['frobnicate'], ['max-connections', 'many'], ['stats', 'extra'],
    ['contexts', 'add', 'a.example.com'], ['stats', '--key', 'k.pem'], ['--nope', 'stats']]) {
    const u = await tlsctl(['--control', d.control, '--state-dir', d.stateDir, ...args]);
    assert.equal(u.code, 1, `tlsctl ${args.join(' ')}: ${u.stderr}`);
  }
  const noPid = await tlsctl(['--control', d.control, 'reload']);
  assert.equal(noPid.code, 1);
  assert.match(noPid.stderr, /--pid-file/);
  assert.match((await ok(['--help'])), /^usage: tlsctl /);
});

// table(text, header): the rows under the header line that starts with
// <header>, as arrays of cells split at the header's column starts (the
// columns must be aligned: every cell starts where its header does).
function table(text, header) {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.startsWith(header));
  assert.ok(at >= 0, `a table headed ${header}:\n${text}`);
  const starts = [...lines[at].matchAll(/(?:^|  )(\S)/g)].map((m) => m.index + m[0].length - 1);
  const rows = [];
  for (const l of lines.slice(at + 1)) {
    if (l === '') break;
    for (const s of starts.slice(1)) assert.match(l.slice(s - 2, s + 1), /^  \S$/, `aligned at ${s}: ${l}`);
    rows.push(starts.map((s, i) => l.slice(s, starts[i + 1]).trim()));
  }
  return rows;
}

// echoOnce(d, servername, text): one TLS connection that echoes <text>.
async function echoOnce(d, servername, text, opts = {}) {
  const s = await d.connect({ servername, ...opts });
  assert.equal((await echo(s, text)).toString(), text);
  s.end();
  await waitClose(s);
}

test('stats: per-context rows, why workers ended, lock recoveries; no backend lines in echo mode', async (t) => {
  const d = await startTlsd({ t, config: { ...ecCreds(), contexts: [
    { hostname: 'a.example.com', key: fixture('sni-a-key.pem'), cert: fixture('sni-a-cert.pem') },
    { hostname: '*.b.example.com', key: fixture('rsa-key.pem'), cert: fixture('rsa-cert.pem') },
  ] }, control: true, workers: 1 });
  const at = ['--control', d.control, '--state-dir', d.stateDir];
  await d.waitWorkers(1);

  await echoOnce(d, 'a.example.com', 'hello');
  await echoOnce(d, 'a.example.com', 'hello');
  await echoOnce(d, 'x.b.example.com', 'abc');
  await echoOnce(d, '', 'xy');
  // A name, then no cipher the ECDSA certificate can use: failed, for a.example.com.
  await assert.rejects(d.connect({ servername: 'a.example.com', minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2',
    ciphers: 'AES128-GCM-SHA256' }));
  const open = await d.connect({ servername: 'y.b.example.com' });
  assert.equal((await echo(open, 'open')).toString(), 'open');
  await waitFor(async () => {
    const c = (await d.api('GET', '/v1/stats')).json.contexts;
    return c[0].handshakes.failed === 1 && c[0].bytes.in === 10 && c[1].bytes.in === 7 && c[2].bytes.in === 2;
  }, ms(5000), 'the counts in /v1/stats');

  const stats = await ok([...at, 'stats']);
  assert.deepEqual(table(stats, 'CONTEXT'), [
    ['a.example.com', '0', '2', '0', '1', '0', '10', '10'],
    ['*.b.example.com', '1', '2', '0', '0', '0', '7', '7'],
    ['*', '0', '1', '0', '0', '0', '2', '2'],
    ['other', '0', '0', '0', '0', '0', '0', '0'],
  ]);
  assert.match(stats, /^CONTEXT +OPEN +FULL +RESUMED +FAILED +TIMED OUT +BYTES IN +BYTES OUT$/m);
  assert.match(stats, /^lock recoveries 0 connection limit, 0 session cache, 0 connection list$/m);
  assert.doesNotMatch(stats, /^backend|^failed connects/m, 'echo mode: no backend lines');
  const pid = d.workerPids()[0];
  assert.deepEqual(table(stats, 'WORKER'), [[String(1), String(pid), '1', '6', '0', 'none']]);
  open.destroy();

  // A worker killed from outside: its slot says why, and its replacement runs on.
  process.kill(pid, 'SIGKILL');
  await waitFor(() => d.workerPids().length === 1 && d.workerPids()[0] !== pid, ms(5000), 'the new worker');
  const after = await waitFor(async () => {
    const s = await ok([...at, 'stats']);
    return /^1 +\d+ +0 +6 +1 +1 signal$/m.test(s) ? s : null;
  }, ms(5000), 'the exit counted');
  assert.deepEqual(table(after, 'WORKER'), [['1', String(d.workerPids()[0]), '0', '6', '1', '1 signal']]);
});

test('stats of an echo server that nobody reached: totals and the worker table, nothing more', async (t) => {
  const { d, at } = await started(t);
  const stats = await ok([...at, 'stats']);
  // The label of each line: the first 16 columns of the key/value lines.
  assert.deepEqual(stats.split('\n').map((l) => l.slice(0, 16).trim().split('  ')[0]), [
    'uptime', 'connections', 'handshakes', 'by version', 'bytes', 'session cache', 'ticket keys',
    'renegotiations', 'lock recoveries', '', 'WORKER', '1', '',
  ], stats);
  assert.deepEqual(table(stats, 'WORKER'), [['1', String(d.workerPids()[0]), '0', '0', '0', 'none']]);
});

test('backend mode: stats shows the backend and its failed connects; health --backend says unhealthy, exit 1',
  async (t) => {
    const port = await closedPort();
    const { d, at } = await started(t, { args: ['--demo', '--backend', `127.0.0.1:${port}`] });

    // The master's first check comes within ~50 ms ("not checked yet"
    // before: 503 as well); then every 2 s.
    const sick = await waitFor(async () => {
      const r = await tlsctl([...at, 'health', '--backend']);
      assert.equal(r.code, 1, `health --backend: ${r.stdout}${r.stderr}`);
      return /unreachable/.test(r.stdout) ? r : null;
    }, ms(5000), 'health --backend to say unreachable');
    assert.match(sick.stdout, new RegExp(`^unhealthy: backend 127\\.0\\.0\\.1:${port}: unreachable: ` +
      'Connection refused, [0-9.]+ s ago \\(the master\'s connect check\\)\\n$'));
    assert.equal(sick.stderr, '');
    assert.equal(await ok([...at, 'health']), 'ok\n', 'plain health does not look at the backend');
    // No token needed: a probe without the state dir.
    assert.equal(await ok(['--control', d.control, '--state-dir', path.join(tmpdir(), 'none'), 'health']), 'ok\n');
    const sickJson = await tlsctl(['--json', ...at, 'health', '--backend']);
    assert.equal(sickJson.code, 1);
    assert.match(sickJson.stdout, /^unhealthy: backend \S+: unreachable: Connection refused, /, '--json: the text as is');

    let stats = await ok([...at, 'stats']);
    assert.match(stats, /^backend +unreachable, 0 connects$/m);
    assert.match(stats, /^failed connects 0 refused, 0 timed out, 0 unreachable, 0 other$/m,
      'the master\'s checks are not counted');
    assert.doesNotMatch(stats, /^backend tls/m, 'a cleartext backend: no TLS line');

    // A client's connect to the backend: refused, counted.
    const s = await d.connect().catch(() => null);
    if (s) await waitClose(s);
    await waitFor(async () => (await d.api('GET', '/v1/stats')).json.backend.connect_failures.refused === 1,
      ms(5000), 'the refused connect counted');
    stats = await ok([...at, 'stats']);
    assert.match(stats, /^failed connects 1 refused, 0 timed out, 0 unreachable, 0 other$/m);
    assert.match(stats, /^backend +unreachable, 0 connects$/m);
    const lines = stats.split('\n');
    assert.ok(lines.indexOf('backend         unreachable, 0 connects') > lines.findIndex((l) => l.startsWith('renegotiations')));
  });

test('health: 0 and "ok" in echo mode, also with --backend; 2 when nothing answers; --backend elsewhere is usage',
  async (t) => {
    const { d, at } = await started(t);
    assert.equal(await ok([...at, 'health']), 'ok\n');
    assert.equal(await ok([...at, 'health', '--backend']), 'ok\n', 'echo mode: no backend to check');
    const usage = await tlsctl([...at, 'stats', '--backend']);
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /--backend goes with health only/);
    assert.equal(usage.stdout, '');
    assert.equal((await tlsctl([...at, 'health', 'extra'])).code, 1);
    const none = await tlsctl(['--control', `127.0.0.1:${await closedPort()}`, 'health']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^tlsctl: GET \/healthz: /);

    // A stopped worker: 503, exit 1, the body on stdout.
    const [pid] = d.workerPids();
    process.kill(pid, 'SIGSTOP');
    t.after(() => { try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ } });
    const sick = await waitFor(async () => {
      const r = await tlsctl([...at, 'health']);
      return r.code === 1 ? r : null;
    }, ms(8000), 'health to say unhealthy');
    assert.match(sick.stdout, new RegExp(`^unhealthy: slot 1 \\(worker ${pid}\\): no heartbeat for `));
    process.kill(pid, 'SIGCONT');
    await waitFor(async () => (await tlsctl([...at, 'health'])).code === 0, ms(5000), 'healthy again');
  });

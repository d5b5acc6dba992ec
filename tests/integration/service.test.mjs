// service.test.mjs - running tlsd as a system service: workers drop to
// "user"/"group" after fork (checked from /proc at start, after a worker is
// SIGKILLed and respawned, after a SIGHUP reload), the root rule, the pid
// file, systemd's readiness protocol and --check's look at the files a
// start needs.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  test, startTlsd, runTlsd, expectStartFailure, ecCreds, readFixture, tmpdir, writeConfig,
  waitFor, echo, ms, haveTool,
} from './lib.mjs';

const TEST_USER = 'tlsd-test';
const isRoot = process.getuid() === 0;
const A = { key: readFixture('sni-a-key.pem').toString(), cert: readFixture('sni-a-cert.pem').toString() };

// serviceUser(): {uid, gid} of TEST_USER, created (a system user) when
// absent; null when this test process cannot create it.
function serviceUser() {
  const id = (flag) => Number(execFileSync('id', [flag, TEST_USER], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', TEST_USER]);
    return { uid: id('-u'), gid: id('-g') };
  }
}

// identity(pid): what /proc says of a process's ids and capabilities.
function identity(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)[1].trim();
  return {
    uid: field('Uid').split(/\s+/).map(Number),	// real, effective, saved, filesystem
    gid: field('Gid').split(/\s+/).map(Number),
    groups: field('Groups') === '' ? [] : field('Groups').split(/\s+/).map(Number),
    capEff: field('CapEff'),
    capPrm: field('CapPrm'),
    noNewPrivs: Number(field('NoNewPrivs')),
  };
}

// assertDropped(pids, user, when): every worker in <pids> has dropped to
// <user>. A worker just forked may not have got there yet: a few ms of
// polling, then the assertion on what /proc says.
async function assertDropped(pids, user, when) {
  const want = {
    uid: [user.uid, user.uid, user.uid, user.uid], gid: [user.gid, user.gid, user.gid, user.gid],
    groups: [user.gid], capEff: '0000000000000000', capPrm: '0000000000000000', noNewPrivs: 1,
  };
  assert.ok(pids.length > 0, `${when}: no worker`);
  await waitFor(() => pids.every((pid) => identity(pid).uid[0] !== 0), ms(1000), `${when}: the drop`).catch(() => {});
  for (const pid of pids) {
    const seen = identity(pid);
    if (process.env.TLSD_TEST_VERBOSE) console.log(`${when}: worker ${pid}: ${JSON.stringify(seen)}`);
    assert.deepEqual(seen, want, `${when}: worker ${pid}`);
  }
}

// serviceDirs(): a config folder and a state dir the workers' user can
// reach (tmpdir() is 0700, as mkdtemp makes it).
function serviceDirs() {
  const base = tmpdir();
  fs.chmodSync(base, 0o711);
  return { base, stateDir: path.join(base, 'state') };
}

async function echoes(d) {
  const s = await d.connect();
  assert.equal((await echo(s, 'ping')).toString(), 'ping');
  s.destroy();
}

async function servedFingerprint(d, servername) {
  const s = await d.connect({ servername });
  const fp = s.getPeerCertificate().fingerprint256;
  s.destroy();
  return fp;
}

test('--user: every worker runs as the user, with no capability, at start, after a respawn and after SIGHUP',
  { skip: !isRoot && 'needs root (to switch users)' }, async (t) => {
    const user = serviceUser();
    const { stateDir } = serviceDirs();
    const d = await startTlsd({
      t, config: writeConfig(ecCreds()), control: true, stateDir, workers: 2, args: ['--user', TEST_USER],
    });
    assert.deepEqual(identity(d.pid).uid, [0, 0, 0, 0], 'the master stays root');
    await assertDropped(await d.waitWorkers(2), user, 'at start');
    await echoes(d);

    const [victim] = d.workerPids();
    process.kill(victim, 'SIGKILL');
    const respawned = await waitFor(() => {
      const w = d.workerPids();
      return w.length === 2 && !w.includes(victim) ? w : null;
    }, ms(5000), 'a replacement worker');
    await assertDropped(respawned, user, 'after SIGKILL and respawn');
    await echoes(d);

    d.signal('SIGHUP');
    const reloaded = await waitFor(() => {
      const w = d.workerPids();
      return w.length === 2 && w.every((p) => !respawned.includes(p)) ? w : null;
    }, ms(8000), 'the reloaded workers');
    await assertDropped(reloaded, user, 'after SIGHUP');
    await echoes(d);

    const r = await d.api('POST', '/v1/contexts', { body: { hostname: 'a.example.com', ...A } });
    assert.equal(r.status, 201, r.text);
    const want = new X509Certificate(A.cert).fingerprint256;
    for (let i = 0; i < 4; i++) assert.equal(await servedFingerprint(d, 'a.example.com'), want, 'runtime context');
    assert.doesNotMatch(d.stderr, /serving the default certificate|Permission denied/);
    assert.equal(fs.statSync(path.join(stateDir, 'control.token')).mode & 0o077, 0, 'the token stays private');
  });

test('a context added before a restart is served by workers that run as the user', { skip: !isRoot && 'needs root' },
  async (t) => {
    serviceUser();
    const { stateDir } = serviceDirs();
    const config = writeConfig(ecCreds());
    const first = await startTlsd({ t, config, control: true, stateDir, workers: 1 });
    assert.equal((await first.api('POST', '/v1/contexts', { body: { hostname: 'a.example.com', ...A } })).status, 201);
    await first.stop();
    const d = await startTlsd({ t, config, control: true, stateDir, workers: 1, args: ['--user', TEST_USER] });
    assert.equal(await servedFingerprint(d, 'a.example.com'), new X509Certificate(A.cert).fingerprint256);
    assert.doesNotMatch(d.stderr, /serving the default certificate/);
  });

test('user and group errors name the key; a non-root master cannot switch', async () => {
  let r = await expectStartFailure(['--demo', '--user', 'no-such-user-tlsd']);
  assert.match(r.stderr, /user: "no-such-user-tlsd": no such user/);
  r = await expectStartFailure(['--demo', '--group', 'root']);
  assert.match(r.stderr, /group: needs "user" too/);
  if (isRoot) {
    serviceUser();
    r = await expectStartFailure(['--demo', '--user', TEST_USER, '--group', 'no-such-group-tlsd']);
    assert.match(r.stderr, /group: "no-such-group-tlsd": no such group/);
  }
});

test('as root with no user: a warning, the workers stay root; "user": "root" keeps root without one',
  { skip: !isRoot && 'needs root' }, async (t) => {
    const d = await startTlsd({ t, args: ['--demo'], workers: 1 });
    await waitFor(() => /workers run as root: set/.test(d.stderr), ms(2000), 'the root warning');
    assert.deepEqual(identity((await d.waitWorkers(1))[0]).uid, [0, 0, 0, 0]);
    const r = await startTlsd({ t, config: { demo: true, user: 'root' }, workers: 1 });
    
    await new Promise((res) => setTimeout(res, ms(200)));	// stderr may trail the ready line
    assert.doesNotMatch(r.stderr, /workers run as root/);
    assert.deepEqual(identity((await r.waitWorkers(1))[0]).uid, [0, 0, 0, 0]);
  });

test('--user: SIGUSR1 log rotation still reaches the workers, which reopen the file as the user',
  { skip: !isRoot && 'needs root' }, async (t) => {
    const user = serviceUser();
    const { base } = serviceDirs();
    const log = path.join(base, 'access.log');
    const closes = (file) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n')
      .filter((l) => l.includes('"event":"close"')).length : 0);
    const d = await startTlsd({ t, config: { ...ecCreds(), accessLog: log, user: TEST_USER }, workers: 2 });
    await echoes(d);
    await waitFor(() => closes(log) === 1, ms(3000), 'the first close line');
    fs.renameSync(log, `${log}.1`);
    d.signal('SIGUSR1');
    await waitFor(() => fs.existsSync(log), ms(3000), 'the master to reopen the file');
    await new Promise((r) => setTimeout(r, ms(200)));	// each worker reopens on its own
    assert.equal(fs.statSync(log).uid, user.uid, 'the new file is the workers\'');
    for (let i = 0; i < 4; i++) await echoes(d);
    await waitFor(() => closes(log) === 4, ms(3000), 'four close lines in the new file');
    assert.equal(closes(`${log}.1`), 1);
    assert.doesNotMatch(d.stderr, /reopen/);
  });

test('--pid-file: written once listening with the master\'s pid, removed at exit; a live tlsd\'s file stops a second start',
  async (t) => {
    const dir = tmpdir();
    const pidFile = path.join(dir, 'tlsd.pid');
    const d = await startTlsd({ t, args: ['--demo', '--pid-file', pidFile], workers: 1 });
    assert.equal(fs.readFileSync(pidFile, 'utf8'), `${d.pid}\n`);
    assert.equal(fs.statSync(pidFile).mode & 0o777, 0o644);
    assert.deepEqual(fs.readdirSync(dir), ['tlsd.pid'], 'no temporary file left');
    const second = await expectStartFailure(['--demo', '--pid-file', pidFile]);
    assert.match(second.stderr, new RegExp(`pidFile: .*tlsd pid ${d.pid} is running`));
    assert.equal(fs.readFileSync(pidFile, 'utf8'), `${d.pid}\n`, 'the refused start left the file alone');
    await d.stop();
    assert.equal(fs.existsSync(pidFile), false, 'removed at exit');
  });

test('--pid-file: a stale file (dead pid, a pid reused by another program, garbage) is replaced', async (t) => {
  const pidFile = path.join(tmpdir(), 'tlsd.pid');
  const dead = execFileSync('sh', ['-c', 'sh -c "echo \\$\\$" & wait'], { encoding: 'utf8' }).trim();
  for (const stale of [`${dead}\n`, `${process.pid}\n`, 'garbage']) {
    fs.writeFileSync(pidFile, stale);
    const d = await startTlsd({ t, args: ['--demo', '--pid-file', pidFile], workers: 1 });
    assert.equal(fs.readFileSync(pidFile, 'utf8'), `${d.pid}\n`, `over ${JSON.stringify(stale)}`);
    await waitFor(() => /pidFile: .*stale/.test(d.stderr), ms(2000), 'the stale warning');
    await d.stop();
  }
});

test('"pidFile" in the config, relative to the config file\'s folder', async (t) => {
  const config = writeConfig({ demo: true, pidFile: 'run/tlsd.pid' });
  fs.mkdirSync(path.join(path.dirname(config), 'run'));
  const d = await startTlsd({ t, config, workers: 1 });
  assert.equal(fs.readFileSync(path.join(path.dirname(config), 'run/tlsd.pid'), 'utf8'), `${d.pid}\n`);
});

// A NOTIFY_SOCKET for tlsd: node has no unix datagram sockets, so a small
// python3 process binds one (a path, or an abstract name for '@...') and
// prints every datagram as a JSON string on a line.
const NOTIFY_LISTENER = `
import json, socket, sys
addr = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('\\0' + addr[1:] if addr.startswith('@') else addr)
print('bound', flush=True)
while True:
    print(json.dumps(s.recv(65536).decode()), flush=True)
`;

async function notifyListener(t, addr) {
  const p = spawn('python3', ['-c', NOTIFY_LISTENER, addr], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => p.kill('SIGKILL'));
  const l = { messages: [], bound: false };
  let buf = '';
  p.stdout.setEncoding('utf8');
  p.stdout.on('data', (c) => {
    buf += c;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line === 'bound') l.bound = true;
      else l.messages.push(JSON.parse(line));
    }
  });
  await waitFor(() => l.bound, ms(5000), 'the notify listener');
  return l;
}

// fields('A=1\nB=2'): {A: '1', B: '2'}
const fields = (m) => Object.fromEntries(m.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
// kind(m): the state a message reports, or 'STATUS' for a status update alone.
const kind = (m) => ['READY', 'RELOADING', 'STOPPING'].find((k) => fields(m)[k] === '1') ?? 'STATUS';

test('NOTIFY_SOCKET: READY=1 once serving, RELOADING=1 + MONOTONIC_USEC then READY=1 around SIGHUP, STOPPING=1, STATUS with workers and connections',
  { skip: !haveTool('python3') && 'needs python3 for the datagram listener' }, async (t) => {
    const sock = path.join(tmpdir(), 'notify.sock');
    const l = await notifyListener(t, sock);
    const d = await startTlsd({ t, config: writeConfig(ecCreds()), workers: 2, env: { NOTIFY_SOCKET: sock } });
    const ready = await waitFor(() => l.messages.find((m) => kind(m) === 'READY'), ms(3000), 'READY=1');
    assert.match(fields(ready).STATUS, /^serving: 2 worker\(s\), 0 draining, 0 connection\(s\) open$/);

    const s = await d.connect();
    await echo(s, 'held open across the reload');
    const before = process.hrtime.bigint() / 1000n;
    d.signal('SIGHUP');
    const reloaded = await waitFor(() => l.messages.filter((m) => kind(m) === 'READY')[1], ms(5000), 'READY=1 after the reload');
    const after = process.hrtime.bigint() / 1000n;
    const reloading = l.messages.find((m) => kind(m) === 'RELOADING');
    const usec = BigInt(fields(reloading).MONOTONIC_USEC);
    assert.ok(usec >= before && usec <= after, `MONOTONIC_USEC ${usec} within [${before}, ${after}] (CLOCK_MONOTONIC)`);
    assert.match(fields(reloaded).STATUS, /^reloaded: 2 worker\(s\), [12] draining, 1 connection\(s\) open$/);
    s.destroy();

    await d.stop();
    const states = l.messages.map(kind).filter((k) => k !== 'STATUS');
    assert.deepEqual(states, ['READY', 'RELOADING', 'READY', 'STOPPING'], JSON.stringify(l.messages));
    assert.match(fields(l.messages.find((m) => kind(m) === 'STOPPING')).STATUS, /^stopping: /);
    if (process.env.TLSD_TEST_VERBOSE) console.log(JSON.stringify(l.messages));
  });

test('NOTIFY_SOCKET: an abstract socket (@name); a refused reload still ends with READY=1',
  { skip: !haveTool('python3') && 'needs python3 for the datagram listener' }, async (t) => {
    const name = `@tlsd-test-notify-${process.pid}`;
    const l = await notifyListener(t, name);
    const config = writeConfig(ecCreds());
    const d = await startTlsd({ t, config, workers: 1, env: { NOTIFY_SOCKET: name } });
    await waitFor(() => l.messages.some((m) => kind(m) === 'READY'), ms(3000), 'READY=1 on the abstract socket');
    fs.writeFileSync(config, '{"workers": "many"}');
    d.signal('SIGHUP');
    const last = await waitFor(() => l.messages.filter((m) => kind(m) === 'READY')[1], ms(5000), 'READY=1 after the refusal');
    assert.match(fields(last).STATUS, /^reload refused, serving the previous configuration: 1 worker\(s\)/);
    assert.deepEqual(l.messages.map(kind).filter((k) => k !== 'STATUS'), ['READY', 'RELOADING', 'READY']);
  });

// tree(dir): every path under <dir>, to show --check left nothing behind.
function tree(dir) {
  return fs.readdirSync(dir, { recursive: true }).sort();
}

test('--check: a start\'s files and folders are checked, each problem named, nothing created', async () => {
  const dir = tmpdir();
  const config = {
    ...ecCreds(),
    accessLog: path.join(dir, 'no-such-folder/access.log'),
    stateDir: path.join(dir, 'no-such-parent/state'),
    pidFile: path.join(dir, 'run/tlsd.pid'),
    control: { listen: `unix:${path.join(dir, 'sock/control.sock')}` },
  };
  const before = tree(dir);
  const r = await runTlsd(['--check'], { config, defaults: false });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /check: accessLog: .*no-such-folder\/access\.log: folder .*no-such-folder: No such file or directory/);
  assert.match(r.stderr, /check: stateDir: .*no-such-parent\/state: folder .*no-such-parent: No such file or directory/);
  assert.match(r.stderr, /check: pidFile: .*run\/tlsd\.pid: folder .*run: No such file or directory/);
  assert.match(r.stderr, /check: control\.listen: .*sock\/control\.sock: folder .*sock: No such file or directory/);
  assert.equal(r.stdout, '', 'no effective config printed');
  assert.deepEqual(tree(dir), before, 'nothing created');
});

test('--check: the same paths where they can be made: exit 0, and still nothing created', async () => {
  const dir = tmpdir();
  fs.mkdirSync(path.join(dir, 'logs'));
  fs.writeFileSync(path.join(dir, 'logs/access.log'), 'kept\n');
  const config = {
    ...ecCreds(), accessLog: path.join(dir, 'logs/access.log'), stateDir: path.join(dir, 'state'),
    pidFile: path.join(dir, 'tlsd.pid'), control: { listen: `unix:${path.join(dir, 'control.sock')}` },
  };
  const before = tree(dir);
  const r = await runTlsd(['--check'], { config, defaults: false });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).pidFile, config.pidFile);
  assert.deepEqual(tree(dir), before, 'nothing created');
  assert.equal(fs.readFileSync(path.join(dir, 'logs/access.log'), 'utf8'), 'kept\n');
});

test('--check --user: a state dir the user cannot reach is named', { skip: !isRoot && 'needs root' }, async () => {
  const user = serviceUser();
  const dir = tmpdir();	// 0700, root's
  const r = await runTlsd(['--check', '--user', TEST_USER, '--demo', '--state-dir', path.join(dir, 'state')]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`check: stateDir: .*: folder ${dir} cannot be entered by the workers' user \\(uid ${user.uid}, gid ${user.gid}, mode 0700\\)`));
  fs.chmodSync(dir, 0o711);
  const ok = await runTlsd(['--check', '--user', TEST_USER, '--demo', '--state-dir', path.join(dir, 'state')]);
  assert.equal(ok.code, 0, ok.stderr);
});

// lib.mjs - shared helpers for tlsd's integration tests (node:test, no npm).
//
// Environment (set by `make check`, defaults for running by hand):
//   TLSD_BIN       the daemon                      (/work/main/tlsd)
//   TLSD_FIXTURES  a writable folder for fixtures  (/work/main/tests/fixtures)
//   TLSD_SRCDIR    the source tree                 (/work/main)
//
// startTlsd() spawns the daemon detached (its own process group), reads the
// "listening HOST:PORT" and "ready pid=PID workers=N" lines from stdout and
// parses every other stdout line that is a JSON object as an access-log
// record. Every daemon and client socket started through this module is torn
// down after the test that started it, and the teardown fails the test when
// the daemon died of a signal nobody sent, printed a sanitizer report, or left
// a process behind.

import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { createHash, constants as cryptoConstants } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { test as nodeTest } from 'node:test';

export const BIN = process.env.TLSD_BIN || '/work/main/tlsd';
export const SRCDIR = process.env.TLSD_SRCDIR || '/work/main';
export const FIXTURES = process.env.TLSD_FIXTURES || path.join(SRCDIR, 'tests/fixtures');
export const GENERATED = path.join(FIXTURES, 'generated');

// Sanitizer builds are slower; TLSD_TEST_SLOW=N multiplies every deadline.
export const SLOW = Number(process.env.TLSD_TEST_SLOW || 1) || 1;
export const ms = (n) => Math.round(n * SLOW);

const READY_TIMEOUT = ms(10000);

// test(name, [opts], fn): node:test's top-level test with a default timeout,
// so a hang is a failure of that test, not of the whole file.
export function test(name, opts, fn) {
  if (typeof opts === 'function') {
    fn = opts;
    opts = {};
  }
  return nodeTest(name, { timeout: ms(20000), ...opts }, fn);
}

let fixturesDone = false;

// fixture(NAME): absolute path of a generated fixture; generates the set once.
export function fixture(name) {
  if (!fixturesDone) {
    const script = path.join(SRCDIR, 'tests/fixtures/make-certs.sh');
    execFileSync('sh', [script, GENERATED], { stdio: ['ignore', 'inherit', 'inherit'] });
    fixturesDone = true;
  }
  const p = path.join(GENERATED, name);
  if (!fs.existsSync(p)) throw new Error(`fixture ${name} missing in ${GENERATED}`);
  return p;
}

export function readFixture(name) {
  return fs.readFileSync(fixture(name));
}

// Default credentials: the RSA pair.
export function rsaCreds() {
  return { key: fixture('rsa-key.pem'), cert: fixture('rsa-cert.pem') };
}

export function ecCreds() {
  return { key: fixture('ec-key.pem'), cert: fixture('ec-cert.pem') };
}

export const sleep = (n) => new Promise((r) => setTimeout(r, n));

export function sha256(buf) {
  return createHash('sha256').update(buf).digest('hex');
}

// waitFor(fn, ms, what): poll fn (may be async) until it returns a truthy
// value; returns that value or throws naming what was awaited.
export async function waitFor(fn, timeout, what = 'condition', every = 25) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}` +
        (last instanceof Error ? `: ${last.message}` : ''));
    }
    await sleep(every);
  }
}

// withTimeout(promise, ms, what)
export function withTimeout(p, timeout, what = 'operation') {
  let timer;
  const t = new Promise((_, rej) => {
    timer = setTimeout(() => rej(new Error(`timed out after ${timeout} ms: ${what}`)), timeout);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------- processes

// children(PID): pids of the direct children of PID, via /proc.
export function children(pid) {
  const out = new Set();
  let tasks = [];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  for (const t of tasks) {
    let s = '';
    try {
      s = fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const c of s.trim().split(/\s+/)) if (c) out.add(Number(c));
  }
  return [...out].filter((c) => procState(c) && procState(c) !== 'Z').sort((a, b) => a - b);
}

// procState(PID): the one-letter state from /proc/PID/stat, or null if gone.
export function procState(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return null;
  }
}

export function alive(pid) {
  const s = procState(pid);
  return s !== null && s !== 'Z' && s !== 'X';
}

// rssKiB(PID): VmRSS of PID in KiB (0 if gone).
export function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

// groupAlive(PGID): whether any process is left in the process group.
export function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
  } catch (e) {
    if (e.code === 'ESRCH') return false;
  }
  // kill(0) also succeeds for zombies; look for a live member in /proc.
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid && f[0] !== 'Z' && f[0] !== 'X') return true;
    } catch {
      /* raced with exit */
    }
  }
  return false;
}

// socketInodes(PID): the inodes of PID's socket file descriptors.
function socketInodes(pid) {
  const out = new Set();
  let fds = [];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.add(m[1]);
    } catch {
      /* closed meanwhile */
    }
  }
  return out;
}

// tcpInode(localPort, remotePort): inode of the IPv4/IPv6 TCP socket whose
// local port is localPort and remote port remotePort, from /proc/net/tcp*.
function tcpInode(localPort, remotePort) {
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const c = line.trim().split(/\s+/);
      if (c.length < 10) continue;
      const lp = parseInt(c[1].split(':')[1], 16);
      const rp = parseInt(c[2].split(':')[1], 16);
      if (lp === localPort && rp === remotePort) return c[9];
    }
  }
  return null;
}

// ----------------------------------------------------------------- the daemon

const live = new Set(); // daemons not yet stopped, for the exit hook
process.on('exit', () => {
  for (const d of live) {
    try {
      process.kill(-d.pgid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

const tmpdirs = [];
process.on('exit', () => {
  for (const d of tmpdirs) fs.rmSync(d, { recursive: true, force: true });
});

// A test run stopped from outside (make's timeout, ^C) still takes its
// daemons down: 'exit' hooks do not run on a fatal signal by default.
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.once(sig, () => process.exit(128 + os.constants.signals[sig]));
}

// tmpdir(): a fresh temporary folder, removed when the test process exits.
export function tmpdir() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tlsd-it-'));
  tmpdirs.push(d);
  return d;
}

// writeConfig(obj): writes obj as JSON into a fresh folder, returns the path.
export function writeConfig(obj, name = 'tlsd.json') {
  const p = path.join(tmpdir(), name);
  fs.writeFileSync(p, typeof obj === 'string' ? obj : JSON.stringify(obj, null, 2));
  return p;
}

class Tlsd {
  constructor(proc, opts) {
    this.proc = proc;
    this.pid = proc.pid;
    this.pgid = proc.pid;
    this.opts = opts;
    this.ports = [];
    this.listening = []; // [{host, port}]
    this.workers = null; // from the ready line
    this.control = null; // "127.0.0.1:PORT" or "unix:/path", from the control line
    this.stateDir = opts.stateDir ?? null;
    this.stdout = '';
    this.stderr = '';
    this.logs = []; // parsed JSON lines (stdout, or accessLog file when tailed)
    this.lines = []; // non-JSON stdout lines
    this.exited = null; // {code, signal} once exited
    this.signalsSent = new Set();
    this.sockets = new Set();
    this._waiters = new Set();
    this._exitPromise = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this.exited = { code, signal };
        live.delete(this);
        this._notify();
        resolve(this.exited);
      });
    });
    let buf = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (s) => {
      this.stdout += s;
      buf += s;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        this._line(buf.slice(0, i).replace(/\r$/, ''));
        buf = buf.slice(i + 1);
      }
    });
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (s) => {
      this.stderr += s;
      if (process.env.TLSD_TEST_VERBOSE) process.stderr.write(s);
    });
  }

  _line(line) {
    if (process.env.TLSD_TEST_VERBOSE) process.stderr.write(`[stdout] ${line}\n`);
    if (line.startsWith('{')) {
      try {
        this.logs.push(JSON.parse(line));
      } catch {
        this.lines.push(line);
      }
    } else {
      this.lines.push(line);
      let m = /^listening (?:\[([^\]]+)\]|([^\s:]+)):(\d+)\s*$/.exec(line);
      if (m) {
        const port = Number(m[3]);
        this.ports.push(port);
        this.listening.push({ host: m[1] || m[2], port });
      }
      m = /^control (\S+)\s*$/.exec(line);
      if (m) this.control = m[1];
      m = /^ready pid=(\d+) workers=(\d+)/.exec(line);
      if (m) {
        this.readyPid = Number(m[1]);
        this.workers = Number(m[2]);
      }
    }
    this._notify();
  }

  _notify() {
    for (const w of [...this._waiters]) w();
  }

  get port() {
    return this.ports[0];
  }

  // token(): the control token tlsd created in its state dir.
  token() {
    return fs.readFileSync(path.join(this.stateDir, 'control.token'), 'utf8').trim();
  }

  // api(method, urlPath, {body, token, headers, raw}): one request to the
  // control endpoint with curl; resolves with {status, json, text}. body is
  // sent as JSON (or as is when a string/Buffer); token defaults to the
  // state dir's (false: none).
  async api(method, urlPath, opts = {}) {
    const args = ['-sS', '-o', '-', '-w', '\n%{http_code}', '-X', method, '--max-time', String(ms(10000) / 1000)];
    const unix = this.control.startsWith('unix:');
    if (unix) args.push('--unix-socket', this.control.slice(5));
    const token = opts.token === undefined ? (unix ? false : this.token()) : opts.token;
    if (token !== false) args.push('-H', `Authorization: Bearer ${token}`);
    for (const h of opts.headers || []) args.push('-H', h);
    let input;
    if (opts.body !== undefined) {
      input = typeof opts.body === 'string' || Buffer.isBuffer(opts.body) ? opts.body : JSON.stringify(opts.body);
      args.push('--data-binary', '@-');
    }
    args.push(`http://${unix ? 'localhost' : this.control}${urlPath}`);
    const r = await runTool('curl', args, { input: input ?? '', timeout: ms(15000) });
    const cut = r.stdout.lastIndexOf('\n');
    const text = r.stdout.slice(0, cut);
    const status = Number(r.stdout.slice(cut + 1));
    if (!status) throw new Error(`curl ${args.join(' ')} failed: ${r.stderr}`);
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      /* text answer */
    }
    return { status, json, text };
  }

  // _until(check, ms, what): resolves with check()'s first truthy result;
  // rejects on timeout, or if the daemon exits first (unless allowExit).
  _until(check, timeout, what, allowExit = false) {
    return new Promise((resolve, reject) => {
      const done = (fn, v) => {
        clearTimeout(timer);
        this._waiters.delete(w);
        fn(v);
      };
      const w = () => {
        let v;
        try {
          v = check();
        } catch (e) {
          return done(reject, e);
        }
        if (v) return done(resolve, v);
        if (this.exited && !allowExit) {
          done(reject, new Error(`tlsd exited (${JSON.stringify(this.exited)}) while waiting for ${what}\n` +
            `stdout:\n${this.stdout}\nstderr:\n${this.stderr}`));
        }
      };
      const timer = setTimeout(() => {
        done(reject, new Error(`timed out after ${timeout} ms waiting for ${what}\n` +
          `log records so far: ${JSON.stringify(this.logs)}\nstderr:\n${this.stderr.slice(-4000)}`));
      }, timeout);
      this._waiters.add(w);
      w();
    });
  }

  ready() {
    return this._until(() => this.workers !== null, READY_TIMEOUT, 'the ready line');
  }

  // waitForLog(pred, ms): the first access-log record (seen so far or later)
  // for which pred(record) holds. pred may also be an object: all its fields
  // must be equal.
  waitForLog(pred, timeout = ms(3000)) {
    const f = typeof pred === 'function' ? pred
      : (r) => Object.entries(pred).every(([k, v]) => r[k] === v);
    const what = typeof pred === 'function' ? `log record matching ${pred}` : `log record ${JSON.stringify(pred)}`;
    return this._until(() => this.logs.find(f), timeout, what, true);
  }

  // closeLogs(): access-log records with event "close".
  closeLogs() {
    return this.logs.filter((r) => r.event === 'close');
  }

  // waitExit(ms): the {code, signal} the master exited with.
  waitExit(timeout = ms(5000)) {
    return withTimeout(this._exitPromise, timeout, 'tlsd to exit');
  }

  signal(sig) {
    this.signalsSent.add(sig);
    process.kill(this.pid, sig);
  }

  // workerPids(): the master's live children.
  workerPids() {
    return children(this.pid);
  }

  // waitWorkers(n): waits until the master has n live children; returns them.
  waitWorkers(n, timeout = ms(5000)) {
    return waitFor(() => {
      const c = this.workerPids();
      return c.length === n ? c : null;
    }, timeout, `${n} worker processes`);
  }

  // ownerOf(socket): the worker pid holding the server side of this client
  // TCP (or TLS) socket, or null.
  ownerOf(sock) {
    const local = sock.localPort;
    const remote = sock.remotePort;
    const ino = tcpInode(remote, local);
    if (!ino) return null;
    for (const w of this.workerPids()) if (socketInodes(w).has(ino)) return w;
    return null;
  }

  // connect(opts): a TLS connection to listener 0 (see connectTls).
  connect(opts = {}) {
    return connectTls(opts.port ?? this.port, { ...opts, owner: this });
  }

  // stop(): SIGTERM, wait, SIGKILL the group; then check no process is left.
  async stop() {
    for (const s of this.sockets) s.destroy();
    if (!this.exited) {
      try {
        this.signal('SIGTERM');
      } catch {
        /* already gone */
      }
      try {
        await this.waitExit(ms(3000));
      } catch {
        try {
          process.kill(-this.pgid, 'SIGKILL');
        } catch {
          /* gone */
        }
        await this.waitExit(ms(3000)).catch(() => {});
        throw new Error(`tlsd did not exit within 3 s of SIGTERM\nstderr:\n${this.stderr.slice(-4000)}`);
      }
    }
    // The master is gone; nothing of its group may linger.
    let leftover = false;
    try {
      await waitFor(() => !groupAlive(this.pgid), ms(2000), 'the process group to empty');
    } catch {
      leftover = true;
      try {
        process.kill(-this.pgid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    live.delete(this);
    this.checkHealthy();
    if (leftover) throw new Error('tlsd left processes behind after the master exited');
    return this.exited;
  }

  // checkHealthy(): throws if the daemon died of a signal we did not send or
  // a sanitizer reported an error.
  checkHealthy() {
    const e = this.exited;
    if (e && e.signal && !this.signalsSent.has(e.signal) && e.signal !== 'SIGKILL') {
      throw new Error(`tlsd died of ${e.signal}\nstderr:\n${this.stderr.slice(-4000)}`);
    }
    if (/ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:/.test(this.stderr)) {
      throw new Error(`sanitizer report in tlsd's stderr:\n${this.stderr.slice(-8000)}`);
    }
  }
}

// buildArgs(opts): the command line startTlsd uses.
function buildArgs(opts) {
  const args = [];
  if (opts.config !== undefined) {
    const cfg = opts.config;
    args.push('-c', typeof cfg === 'string' && !cfg.trim().startsWith('{') && fs.existsSync(cfg)
      ? cfg : writeConfig(cfg));
  }
  const extra = opts.args || [];
  if (opts.control && !extra.includes('--control')) {
    args.push('--control', opts.control === true ? '127.0.0.1:0' : opts.control);
  } else if (!extra.includes('--control')) {
    args.push('--control', 'off');
  }
  if (opts.control && !extra.includes('--state-dir')) {
    opts.stateDir = opts.stateDir ?? path.join(tmpdir(), 'state');
    args.push('--state-dir', opts.stateDir);
  }
  const cfgListen = opts.config && typeof opts.config === 'object' && opts.config.listen;
  if (!extra.includes('--listen') && !cfgListen) args.push('--listen', '127.0.0.1:0');
  if (opts.workers !== undefined) args.push('--workers', String(opts.workers));
  if (opts.logFormat !== false && !extra.includes('--log-format')) args.push('--log-format', 'json');
  args.push(...extra);
  return args;
}

// spawnTlsd(opts): spawns without waiting for anything; see startTlsd.
export function spawnTlsd(opts = {}) {
  const args = buildArgs(opts);
  const proc = spawn(BIN, args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...(opts.env || {}) },
    cwd: opts.cwd,
  });
  const d = new Tlsd(proc, opts);
  d.args = args;
  live.add(d);
  if (opts.t) {
    opts.t.after(async () => {
      await d.stop();
    });
  }
  return d;
}

// startTlsd({t, args, config, env, workers}): starts the daemon and waits for
// its ready line. With t (the test context) it is stopped after that test.
// config is an object (written to a temporary file) or a path.
export async function startTlsd(opts = {}) {
  const d = spawnTlsd(opts);
  try {
    await d.ready();
  } catch (e) {
    await d.stop().catch(() => {});
    throw e;
  }
  return d;
}

// runTlsd(args, {config, timeout}): runs tlsd to completion (for --check and
// config errors); resolves with {code, signal, stdout, stderr, started}. If
// the daemon gets as far as its ready line it is killed (with its whole
// process group) and started is true. Adds --control off and --listen
// 127.0.0.1:0 unless opts.defaults is false.
export function runTlsd(args, opts = {}) {
  const full = [];
  if (opts.config !== undefined) full.push('-c', writeConfig(opts.config));
  if (opts.defaults !== false) full.push('--control', 'off', '--listen', '127.0.0.1:0');
  full.push(...args);
  const timeout = opts.timeout ?? ms(10000);
  return new Promise((resolve, reject) => {
    const p = spawn(BIN, full, {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...(opts.env || {}) },
    });
    const ref = { pgid: p.pid };
    live.add(ref);
    let stdout = '';
    let stderr = '';
    let started = false;
    const killGroup = () => {
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    };
    p.stdout.setEncoding('utf8');
    p.stderr.setEncoding('utf8');
    p.stdout.on('data', (c) => {
      stdout += c;
      if (!started && /^ready /m.test(stdout)) {
        started = true;
        killGroup();
      }
    });
    p.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => {
      killGroup();
      reject(new Error(`tlsd ${full.join(' ')} did not exit within ${timeout} ms\n` +
        `stdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeout);
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.on('close', async (code, signal) => {
      clearTimeout(timer);
      await waitFor(() => !groupAlive(p.pid), ms(2000), 'the process group to empty').catch(killGroup);
      live.delete(ref);
      if (/ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:/.test(stderr)) {
        reject(new Error(`sanitizer report in tlsd's stderr:\n${stderr.slice(-8000)}`));
        return;
      }
      resolve({ code: started ? null : code, signal: started ? null : signal, stdout, stderr, started, args: full });
    });
  });
}

// expectStartFailure(args, opts): runTlsd and assert that tlsd refused to
// start: exited by itself, non-zero, without a ready line.
export async function expectStartFailure(args, opts = {}) {
  const r = await runTlsd(args, opts);
  if (r.started) {
    throw new Error(`tlsd started although it should have refused to\nstderr:\n${r.stderr}`);
  }
  if (r.signal) throw new Error(`tlsd died of ${r.signal}\nstderr:\n${r.stderr}`);
  if (r.code === 0) throw new Error(`tlsd exited 0 although it should have failed\nstderr:\n${r.stderr}`);
  return r;
}

// ------------------------------------------------------------------- clients

// connectTls(port, opts): resolves with the TLSSocket once secureConnect
// fires, rejects on an error or close before that. Defaults: host 127.0.0.1,
// servername localhost, rejectUnauthorized false. opts.timeout bounds the
// handshake.
export function connectTls(port, opts = {}) {
  const { owner, timeout = ms(5000), ...rest } = opts;
  const o = {
    host: '127.0.0.1',
    port,
    servername: 'localhost',
    rejectUnauthorized: false,
    ...rest,
  };
  return new Promise((resolve, reject) => {
    const s = tls.connect(o);
    if (owner) owner.sockets.add(s);
    const timer = setTimeout(() => {
      s.destroy();
      const e = new Error(`TLS handshake with port ${port} timed out after ${timeout} ms`);
      e.code = 'HANDSHAKE_TIMEOUT';
      reject(e);
    }, timeout);
    const fail = (e) => {
      clearTimeout(timer);
      s.destroy();
      reject(e);
    };
    s.once('error', fail);
    s.once('close', () => {
      const e = new Error('connection closed before the handshake completed');
      e.code = 'CLOSED_BEFORE_HANDSHAKE';
      fail(e);
    });
    s.once('secureConnect', () => {
      clearTimeout(timer);
      s.clientPort = s.localPort; // localPort reads undefined once closed
      s.removeListener('error', fail);
      s.removeAllListeners('close');
      s.on('error', (e) => {
        s.lastError = e;
      });
      resolve(s);
    });
  });
}

// connectTcp(port, host): a plain TCP socket, resolved once connected.
export function connectTcp(port, host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host });
    s.once('connect', () => {
      s.clientPort = s.localPort;
      s.removeListener('error', reject);
      s.on('error', (e) => {
        s.lastError = e;
      });
      resolve(s);
    });
    s.once('error', reject);
  });
}

// readBytes(sock, n, ms): resolves with exactly the next n bytes; rejects on
// end/close/error/timeout before. Leftover bytes are unshifted back.
export function readBytes(sock, n, timeout = ms(3000)) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let got = 0;
    const cleanup = () => {
      clearTimeout(timer);
      sock.removeListener('data', onData);
      sock.removeListener('end', onEnd);
      sock.removeListener('close', onEnd);
      sock.removeListener('error', onErr);
    };
    const onData = (c) => {
      chunks.push(c);
      got += c.length;
      if (got >= n) {
        cleanup();
        sock.pause();
        const all = Buffer.concat(chunks);
        if (all.length > n) sock.unshift(all.subarray(n));
        resolve(all.subarray(0, n));
      }
    };
    const onEnd = () => {
      cleanup();
      const e = new Error(`connection ended after ${got} of ${n} bytes`);
      e.code = 'ENDED';
      e.received = Buffer.concat(chunks);
      reject(e);
    };
    const onErr = (err) => {
      cleanup();
      err.received = Buffer.concat(chunks);
      reject(err);
    };
    const timer = setTimeout(() => {
      cleanup();
      const e = new Error(`timed out after ${timeout} ms with ${got} of ${n} bytes`);
      e.code = 'READ_TIMEOUT';
      e.received = Buffer.concat(chunks);
      reject(e);
    }, timeout);
    sock.on('data', onData);
    sock.once('end', onEnd);
    sock.once('close', onEnd);
    sock.once('error', onErr);
    sock.resume();
  });
}

// echo(sock, data): writes data and resolves with the same number of bytes
// read back.
export async function echo(sock, data, timeout = ms(3000)) {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const p = readBytes(sock, buf.length, timeout);
  sock.write(buf);
  return p;
}

// readUntilEnd(sock, ms): all bytes until 'end' (or close); resolves with
// {data, ended, error}.
export function readUntilEnd(sock, timeout = ms(3000)) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let ended = false;
    let error = sock.lastError || null;
    const timer = setTimeout(() => {
      reject(Object.assign(new Error(`no end/close within ${timeout} ms`), {
        code: 'READ_TIMEOUT', received: Buffer.concat(chunks),
      }));
    }, timeout);
    sock.on('data', (c) => chunks.push(c));
    sock.once('end', () => {
      ended = true;
    });
    sock.on('error', (e) => {
      error = e;
    });
    const fin = () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), ended, error });
    };
    if (sock.destroyed) fin();
    else sock.once('close', fin);
    sock.resume();
  });
}

// waitClose(sock, ms): resolves when the socket closes ({ended, error}).
export function waitClose(sock, timeout = ms(3000)) {
  return readUntilEnd(sock, timeout);
}

// closeOf(sock): a waitForLog predicate for the close record of this client
// socket (matched on the client's port, which the record's "client" ends in).
export function closeOf(sock) {
  const port = sock.clientPort ?? sock.localPort;
  if (!port) throw new Error('closeOf: socket has no local port');
  return (r) => r.event === 'close' && typeof r.client === 'string' && r.client.endsWith(`:${port}`);
}

// closedPort(): a TCP port on 127.0.0.1 that nothing listens on (bound, then
// released; good enough on a test machine).
export async function closedPort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

// listenTcp(handler, opts): a net.Server on 127.0.0.1:0; resolves with
// {server, port, close()} and tracks its sockets for close().
export async function listenTcp(handler, opts = {}) {
  const socks = new Set();
  const server = net.createServer(opts, (s) => {
    socks.add(s);
    s.on('close', () => socks.delete(s));
    s.on('error', () => {});
    handler(s);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    port: server.address().port,
    close: () => new Promise((r) => {
      for (const s of socks) s.destroy();
      server.close(() => r());
    }),
  };
}

// ---------------------------------------------------------- external tools

// tool(cmd, args, {input, timeout}): runs an external client; resolves with
// {code, signal, stdout, stderr}. input is written then stdin is closed,
// unless keepOpen.
export function runTool(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8');
    p.stderr.setEncoding('utf8');
    p.stdout.on('data', (s) => (stdout += s));
    p.stderr.on('data', (s) => (stderr += s));
    p.stdin.on('error', () => {});
    const timeout = opts.timeout ?? ms(5000);
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
    }, timeout);
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut: signal === 'SIGKILL' });
    });
    if (opts.input !== undefined) p.stdin.write(opts.input);
    if (!opts.keepOpen) p.stdin.end();
  });
}

// Interactive external client: write to stdin, wait for output patterns.
export class Interactive {
  constructor(cmd, args) {
    this.out = '';
    this.err = '';
    this.exited = null;
    this.p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.p.stdin.on('error', () => {});
    this._waiters = new Set();
    const note = () => {
      for (const w of [...this._waiters]) w();
    };
    this.p.stdout.setEncoding('utf8');
    this.p.stderr.setEncoding('utf8');
    this.p.stdout.on('data', (s) => {
      this.out += s;
      note();
    });
    this.p.stderr.on('data', (s) => {
      this.err += s;
      note();
    });
    this.done = new Promise((r) => {
      this.p.on('close', (code, signal) => {
        this.exited = { code, signal };
        note();
        r(this.exited);
      });
    });
  }

  get all() {
    return this.out + this.err;
  }

  write(s) {
    this.p.stdin.write(s);
  }

  end() {
    this.p.stdin.end();
  }

  // expect(re, ms, from): waits until (stdout+stderr) from offset `from`
  // matches re; resolves with the match. Rejects on timeout or exit.
  expect(re, timeout = ms(3000), from = 0, stream = 'all') {
    return new Promise((resolve, reject) => {
      const text = () => (stream === 'out' ? this.out : stream === 'err' ? this.err : this.all).slice(from);
      const finish = (fn, v) => {
        clearTimeout(timer);
        this._waiters.delete(w);
        fn(v);
      };
      const w = () => {
        const m = re.exec(text());
        if (m) return finish(resolve, m);
        if (this.exited) {
          finish(reject, new Error(`client exited (${JSON.stringify(this.exited)}) before ${re}\n` +
            `stdout:\n${this.out}\nstderr:\n${this.err}`));
        }
      };
      const timer = setTimeout(() => finish(reject, new Error(`timed out waiting for ${re}\n` +
        `stdout:\n${this.out}\nstderr:\n${this.err}`)), timeout);
      this._waiters.add(w);
      w();
    });
  }

  kill() {
    if (!this.exited) this.p.kill('SIGKILL');
    return this.done;
  }
}

export function haveTool(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0;
}

// openssl/gnutls-cli sometimes differ in what a "failed" handshake prints;
// these helpers read the -msg trace of s_client.
export function sentClientHello(out) {
  return />>> [^\n]*Handshake[^\n]*ClientHello/.test(out);
}

export function gotServerHello(out) {
  return /<<< [^\n]*Handshake[^\n]*ServerHello/.test(out);
}

export function cleanEnv() {
  return { ...process.env };
}

// sessionFrom(port, opts): one full handshake; resolves with the session
// Node got (for TLS 1.3 it arrives after the handshake, with the ticket).
export function sessionFrom(port, opts = {}) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false, ...opts });
    s.once('session', (session) => {
      resolve(session);
      s.end();
    });
    s.on('data', () => {});
    s.once('error', reject);
  });
}

// resumedWith(port, session, opts): true when a handshake offering
// <session> was resumed by the server.
export function resumedWith(port, session, opts = {}) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false, session, ...opts },
      () => {
        resolve(s.isSessionReused());
        s.end();
      });
    s.on('data', () => {});
    s.once('error', reject);
  });
}

// knownTraffic(d, idResumes): traffic whose counts the stats tests know
// exactly, against a tlsd with a short handshakeTimeout: 3 full TLS 1.3
// handshakes echoing 5 bytes each; 1 full TLS 1.2 handshake taking a
// ticket, then 4 resumed by it; 1 full TLS 1.2 without tickets, then
// <idResumes> resumed by session ID; 1 client that is not TLS (failed), 1
// silent one (timeout). Resolves once every connection is logged closed.
export async function knownTraffic(d, idResumes) {
  const tls12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' };
  const noTicket = { ...tls12, secureOptions: cryptoConstants.SSL_OP_NO_TICKET };
  const finished = () => d.logs.filter((r) => r.event === 'close' || r.event === 'clientError').length;
  const start = finished();
  for (let i = 0; i < 3; i++) {
    const s = await connectTls(d.port, { minVersion: 'TLSv1.3' });
    if ((await echo(s, 'hello')).toString() !== 'hello') throw new Error('echo failed');
    s.end();
  }
  const ticket = await sessionFrom(d.port, tls12);
  for (let i = 0; i < 4; i++) if (!(await resumedWith(d.port, ticket, tls12))) throw new Error('ticket did not resume');
  const first = await connectTls(d.port, noTicket);
  const idSession = first.getSession();
  first.end();
  // GnuTLS stores the session after its last flight: wait for the close.
  await waitFor(() => finished() >= start + 3 + 5 + 1, ms(5000), 'the session stored');
  for (let i = 0; i < idResumes; i++) {
    const s = await connectTls(d.port, { ...noTicket, session: idSession });
    if (!s.isSessionReused()) throw new Error('session ID did not resume');
    s.end();
  }
  const junk = await connectTcp(d.port);
  junk.write('GET / HTTP/1.0\r\n\r\n');
  await waitClose(junk);
  const silent = await connectTcp(d.port);
  await waitClose(silent, ms(5000));
  const total = 3 + 5 + 1 + idResumes + 2;
  await waitFor(() => finished() >= start + total, ms(5000), `${total} close/clientError lines`);
}

// opensslReuses(port, flags, n): one `openssl s_client -sess_out` handshake,
// then <n> with `-sess_in`; resolves with {first, reused}: whether the first
// was a new session and how many of the n were "Reused".
export async function opensslReuses(port, flags, n) {
  const file = path.join(tmpdir(), 'sess.pem');
  const base = ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...flags];
  const first = await runTool('openssl', [...base, '-sess_out', file], { input: '' });
  let reused = 0;
  for (let i = 0; i < n; i++) {
    const r = await runTool('openssl', [...base, '-sess_in', file], { input: '' });
    if (/^Reused, /m.test(r.stdout)) reused++;
  }
  return { firstNew: /^New, /m.test(first.stdout), reused };
}

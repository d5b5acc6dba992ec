// session-store.mjs - what the Redis level of the session-ID cache costs:
// TLS 1.2 session-ID resumptions (tickets off) of sessions made on
// instance A, resumed on A itself (shared memory) and on instance B
// (through Redis, then from B's shared memory), one client at a time.
//
//   node bench/session-store.mjs [TLSD] [N]      (default ./tlsd, 300)
//
// Needs redis-server and the test fixtures' certificate (or --demo). For
// each of N sessions: one full handshake on A, then one resumption on A,
// one on B (the first there: Redis), one more on B (now B's shared memory).
// Prints the share resumed and p50/p90/p99 of each kind in microseconds.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { spawn } from 'node:child_process';

const bin = process.argv[2] || './tlsd';
const N = Number(process.argv[3] || 300);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlsd-store-bench-'));
const sock = path.join(dir, 'redis.sock');
const NO_TICKET = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', secureOptions: crypto.constants.SSL_OP_NO_TICKET };
const procs = [];

function start(cmd, args) {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(p);
  return p;
}

async function tlsd(name) {
  const cfg = path.join(dir, `${name}.json`);
  fs.writeFileSync(cfg, JSON.stringify({ demo: true, sessionStore: { redis: `unix:${sock}` } }));
  const p = start(bin, ['-c', cfg, '--listen', '127.0.0.1:0', '--control', 'off', '--workers', '1',
    '--state-dir', path.join(dir, `${name}-state`)]);
  let out = '';
  return new Promise((resolve, reject) => {
    p.stdout.on('data', (d) => {
      out += d;
      const m = /^listening .*:(\d+)$/m.exec(out);
      if (m && /^ready /m.test(out)) resolve(Number(m[1]));
    });
    p.on('exit', () => reject(new Error(`${name} exited: ${out}`)));
  });
}

function connect(port, session) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ...NO_TICKET, session }, () => {
      const us = Number(process.hrtime.bigint() - t0) / 1000;
      resolve({ us, reused: s.isSessionReused(), session: s.getSession() });
      s.destroy();
    });
    s.once('error', reject);
  });
}

function pct(values, p) {
  const v = [...values].sort((a, b) => a - b);
  return Math.round(v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))]);
}

try {
  start('redis-server', ['--port', '0', '--unixsocket', sock, '--save', '', '--appendonly', 'no', '--dir', dir]);
  for (let i = 0; i < 50 && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 100));
  const a = await tlsd('a');
  const b = await tlsd('b');
  const kinds = { 'A, shared memory': [], 'B, through Redis': [], 'B, then shared memory': [] };
  const resumed = { 'A, shared memory': 0, 'B, through Redis': 0, 'B, then shared memory': 0 };
  for (let i = 0; i < N; i++) {
    const { session } = await connect(a, undefined);
    await new Promise((r) => setTimeout(r, 2));	// the write behind
    for (const [kind, port] of [['A, shared memory', a], ['B, through Redis', b], ['B, then shared memory', b]]) {
      const r = await connect(port, session);
      kinds[kind].push(r.us);
      resumed[kind] += r.reused ? 1 : 0;
    }
  }
  console.log(`| resumption, TLS 1.2 session ID (${N} sessions) | resumed | p50 us | p90 us | p99 us |`);
  console.log('|---|---|---|---|---|');
  for (const [kind, v] of Object.entries(kinds)) {
    console.log(`| ${kind} | ${resumed[kind]}/${N} | ${pct(v, 50)} | ${pct(v, 90)} | ${pct(v, 99)} |`);
  }
} finally {
  for (const p of procs) p.kill('SIGKILL');
}

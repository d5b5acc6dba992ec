// idle-memory.mjs - RSS of an idle worker and per idle TLS connection.
//
// Starts `tlsd --demo --workers 1`, reads the worker's VmRSS, opens N TLS
// connections that finish the handshake and then stay idle, reads VmRSS
// again and prints the growth per connection. Repeats R times.
// With "echo" as the 4th argument each connection first echoes 1 KiB, to
// show that a connection that has gone idle gives its buffers back.
//   node bench/idle-memory.mjs [TLSD_BIN] [N=500] [R=3] [echo]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import tls from 'node:tls';

const bin = process.argv[2] || './tlsd';
const n = Number(process.argv[3] || 500);
const rounds = Number(process.argv[4] || 3);
const echoFirst = process.argv[5] === 'echo';

function rssKiB(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(m[1]);
}

function workerPid(master) {
  const kids = fs.readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim().split(/\s+/);
  return Number(kids[0]);
}

function start() {
  return new Promise((resolve, reject) => {
    const proc = spawn(bin, ['--demo', '--listen', '127.0.0.1:0', '--workers', '1', '--control', 'off',
      '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const port = out.match(/listening 127\.0\.0\.1:(\d+)/);
      const ready = out.match(/ready pid=(\d+)/);
      if (port && ready) resolve({ proc, port: Number(port[1]), pid: Number(ready[1]) });
    });
    proc.on('exit', (code) => reject(new Error(`tlsd exited ${code}`)));
  });
}

function connect(port) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
      if (!echoFirst) return resolve(s);
      let got = 0;
      s.on('data', (d) => {
        got += d.length;
        if (got >= 1024) resolve(s);
      });
      s.write(Buffer.alloc(1024, 'x'));
    });
    s.on('error', reject);
  });
}

const sleep = (t) => new Promise((r) => setTimeout(r, t));

for (let r = 0; r < rounds; r++) {
  const d = await start();
  await sleep(300);
  const worker = workerPid(d.pid);
  const idle = rssKiB(worker);
  const socks = [];
  for (let i = 0; i < n; i++) socks.push(await connect(d.port));
  await sleep(300);
  const loaded = rssKiB(worker);
  console.log(`round ${r + 1}: idle worker RSS ${idle} KiB; with ${n} idle TLS connections${echoFirst ? ' (after 1 KiB echo)' : ''} ${loaded} KiB; ` +
    `per connection ${((loaded - idle) / n).toFixed(1)} KiB`);
  for (const s of socks) s.destroy();
  d.proc.kill('SIGTERM');
  await new Promise((res) => d.proc.on('exit', res));
}

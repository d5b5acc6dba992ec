// handshake-client.mjs - sequential TLS handshakes for bench/handshake-rate.sh,
// for the case `openssl s_time` cannot do: TLS 1.3 resumption by ticket
// (s_time never reads after the handshake, so it never sees the TLS 1.3
// NewSessionTicket and every -reuse connection is a full handshake).
//
// One full handshake first, kept open until the server's ticket arrives;
// then, for SECONDS, one connection after another offering that session:
// connect, handshake, close_notify, next (the close finishes in the
// background, like s_time, which just closes the socket). Without --reuse
// every connection is a full handshake.
//
//   node bench/handshake-client.mjs --port PORT [--host 127.0.0.1]
//        [--seconds 5] [--version TLSv1.3|TLSv1.2] [--reuse]
//
// Prints one line: connections=N resumed=N errors=N seconds=S cpu_s=S
// (cpu_s: this process's user+system CPU seconds during the timed loop).
import tls from 'node:tls';

const args = process.argv.slice(2);
function opt(name, dflt) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
}
const host = opt('host', '127.0.0.1');
const port = Number(opt('port', ''));
const seconds = Number(opt('seconds', '5'));
const version = opt('version', 'TLSv1.3');
const reuse = args.includes('--reuse');
if (!port) {
  console.error('usage: handshake-client.mjs --port PORT [--host H] [--seconds S] [--version V] [--reuse]');
  process.exit(2);
}

// One SecureContext for all connections: tls.connect would build a new one
// (with the root store) for every connection, which costs more than the
// handshake itself.
const secureContext = tls.createSecureContext({ minVersion: version, maxVersion: version });
const base = { host, port, servername: 'localhost', rejectUnauthorized: false, secureContext };

// firstSession(): a full handshake; resolves with the session once the
// server's ticket has arrived (for TLS 1.3 that is after the handshake).
function firstSession() {
  return new Promise((resolve, reject) => {
    const s = tls.connect(base);
    s.once('session', (session) => {
      s.end();
      resolve(session);
    });
    s.on('data', () => {});
    s.once('error', reject);
  });
}

// once(session): resolves with isSessionReused() as soon as the handshake is
// done; the connection is closed with close_notify and left to finish.
function once(session) {
  return new Promise((resolve, reject) => {
    let done = false;
    const s = tls.connect({ ...base, session });
    s.once('secureConnect', () => {
      done = true;
      resolve(s.isSessionReused());
      s.end();
    });
    s.on('data', () => {});
    s.on('error', (err) => {
      if (!done) reject(err);
    });
  });
}

const session = reuse ? await firstSession() : undefined;
let connections = 0;
let resumed = 0;
let errors = 0;
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const end = t0 + BigInt(Math.round(seconds * 1e9));
while (process.hrtime.bigint() < end) {
  try {
    if (await once(session)) resumed++;
    connections++;
  } catch {
    errors++;
  }
}
const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
console.log(`connections=${connections} resumed=${resumed} errors=${errors} seconds=${elapsed.toFixed(3)} ` +
  `cpu_s=${((cpu.user + cpu.system) / 1e6).toFixed(3)}`);

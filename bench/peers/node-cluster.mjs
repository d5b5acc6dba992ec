// node-cluster.mjs - the Node.js peer of bench/peers: tls.createServer under
// cluster, echoing every byte back, the system that tlsd re-implements.
//
//   node bench/peers/node-cluster.mjs --workers N --key FILE --cert FILE
//        [--host 127.0.0.1] [--port 0] [--session-store]
//
// Prints "listening HOST:PORT" and then "ready pid=PID workers=PID,PID,..."
// on stdout once every worker listens. SIGTERM/SIGINT stop the workers and
// the primary.
//
// As Node's documentation recommends for several processes:
// - ticketKeys: the primary draws one random 48-byte key set and gives the
//   same ticketKeys option to every worker, so a ticket issued by one worker
//   resumes on any other (TLS 1.2 and TLS 1.3).
// - Session IDs (TLS 1.2 without tickets): Node keeps no server-side
//   session cache of its own (OpenSSL's internal one is off), not even per
//   worker: "Servers must implement handlers for the 'newSession' and
//   'resumeSession' events to save and restore the session state". Without
//   --session-store there are none, as in a plain tls.createServer, and no
//   reconnect resumes by session ID. With --session-store the workers have
//   those handlers and keep the sessions in a Map in the cluster primary
//   (IPC round trip per new and per resumed session; at most 20480 entries,
//   300 s, as tlsd's cache): what a Node cluster has to add to resume
//   session IDs across workers (in production often an external store).
// - Connections are spread by cluster's default policy (round-robin: the
//   primary accepts and hands each socket to a worker); NODE_CLUSTER_SCHED_POLICY
//   =none in the environment lets the workers accept themselves instead.
// Everything else is Node's default: TLS 1.2 and 1.3, Node's default cipher
// list (which tlsd also uses), ecdhCurve auto, sessionTimeout 300 s.
import cluster from 'node:cluster';
import crypto from 'node:crypto';
import fs from 'node:fs';
import tls from 'node:tls';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
	options: {
		workers: { type: 'string', default: '1' },
		key: { type: 'string' },
		cert: { type: 'string' },
		host: { type: 'string', default: '127.0.0.1' },
		port: { type: 'string', default: '0' },
		'session-store': { type: 'boolean', default: false },
	},
});

if (cluster.isPrimary) {
	const n = Number(args.workers);
	if (!Number.isInteger(n) || n < 1 || !args.key || !args.cert) {
		console.error('usage: node-cluster.mjs --workers N --key FILE --cert FILE [--host H] [--port P]');
		process.exit(2);
	}
	const ticketKeys = crypto.randomBytes(48).toString('base64');
	let listening = 0;
	let stopping = false;
	let address = null;
	const pids = [];
	for (let i = 0; i < n; i++) {
		const w = cluster.fork({ BENCH_TICKET_KEYS: ticketKeys });
		pids.push(w.process.pid);
		w.on('listening', (a) => {
			address ??= a;
			if (++listening === n) {
				console.log(`listening ${address.address}:${address.port}`);
				console.log(`ready pid=${process.pid} workers=${pids.join(',')}`);
			}
		});
	}
	cluster.on('exit', (w, code, signal) => {
		if (stopping) return;
		console.error(`node-cluster: worker ${w.process.pid} exited (${signal || code}); stopping`);
		stop(1);
	});
	const stop = (code) => {
		stopping = true;
		for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
		// Wait for the workers, but not for ever.
		const t = setTimeout(() => process.exit(code), 2000);
		cluster.disconnect(() => { clearTimeout(t); process.exit(code); });
	};
	process.on('SIGTERM', () => stop(0));
	process.on('SIGINT', () => stop(0));

	// The session store for --session-store: insertion order is the LRU
	// order (a hit is moved to the end).
	const sessions = new Map();
	const maxSessions = 20480;
	const lifetimeMs = 300 * 1000;
	cluster.on('message', (w, m) => {
		if (m?.t === 'sess-set') {
			sessions.delete(m.id);
			sessions.set(m.id, { data: m.data, expires: Date.now() + lifetimeMs });
			if (sessions.size > maxSessions) sessions.delete(sessions.keys().next().value);
		} else if (m?.t === 'sess-get') {
			let e = sessions.get(m.id);
			if (e && e.expires < Date.now()) {
				sessions.delete(m.id);
				e = undefined;
			}
			if (e) {
				sessions.delete(m.id);
				sessions.set(m.id, e);
			}
			w.send({ t: 'sess-got', q: m.q, data: e ? e.data : null });
		}
	});
} else {
	const opts = {
		key: fs.readFileSync(args.key),
		cert: fs.readFileSync(args.cert),
		ticketKeys: Buffer.from(process.env.BENCH_TICKET_KEYS, 'base64'),
	};
	const server = tls.createServer(opts, (sock) => {
		sock.on('error', () => {});
		sock.pipe(sock);
	});
	server.on('tlsClientError', () => {});
	if (args['session-store']) {
		const pending = new Map();
		let seq = 0;
		process.on('message', (m) => {
			if (m?.t !== 'sess-got') return;
			const cb = pending.get(m.q);
			pending.delete(m.q);
			cb?.(null, m.data ? Buffer.from(m.data, 'base64') : null);
		});
		server.on('newSession', (id, data, cb) => {
			process.send({ t: 'sess-set', id: id.toString('hex'), data: data.toString('base64') });
			cb();
		});
		server.on('resumeSession', (id, cb) => {
			const q = ++seq;
			pending.set(q, cb);
			process.send({ t: 'sess-get', q, id: id.toString('hex') });
		});
	}
	server.listen(Number(args.port), args.host);
	process.on('SIGTERM', () => process.exit(0));
}

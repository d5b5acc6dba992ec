// connections.test.mjs - GET /v1/connections lists every connection with
// Node's TLSSocket names, as the clients themselves see them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  startTlsd, ecCreds, connectTls, connectTcp, echo, fixture, readFixture, sessionFrom, waitFor, ms,
} from './lib.mjs';

async function listed(d) {
  const r = await d.api('GET', '/v1/connections');
  assert.equal(r.status, 200, r.text);
  return r.json;
}

const byPort = (list, sock) => list.find((c) => c.remotePort === sock.clientPort);

test('each connection is listed with what its client negotiated, and leaves the list when it closes',
  async (t) => {
    const before = Date.now();
    const d = await startTlsd({ t, config: { ...ecCreds(), ALPNProtocols: ['h2', 'http/1.1'] }, control: true,
      workers: 2 });
    const a = await connectTls(d.port, { servername: 'localhost', ALPNProtocols: ['h2'], owner: d });
    const b = await connectTls(d.port, { servername: '', minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', owner: d });
    await echo(a, 'hello');
    const list = await listed(d);
    assert.equal(list.length, 2);
    const la = byPort(list, a);
    const lb = byPort(list, b);
    assert.ok(la && lb, JSON.stringify(list));
    assert.deepEqual({ ...la, id: undefined, startedAt: undefined }, {
      id: undefined, worker: d.ownerOf(a), slot: la.slot, state: 'open',
      remoteAddress: '127.0.0.1', remotePort: a.clientPort, remoteFamily: 'IPv4',
      localAddress: '127.0.0.1', localPort: d.port,
      servername: 'localhost', alpnProtocol: 'h2', protocol: a.getProtocol(),
      cipher: { name: a.getCipher().name, version: a.getProtocol() },
      resumed: false, authorized: false, authorizationError: null, peerCertificate: null,
      backend: null, bytesRead: 5, bytesWritten: 5, startedAt: undefined,
    });
    assert.ok([1, 2].includes(la.slot));
    assert.match(la.id, /^\d+\.\d+$/);
    assert.notEqual(la.id, lb.id);
    const started = Date.parse(la.startedAt);
    assert.ok(started >= before - 1000 && started <= Date.now(), la.startedAt);
    assert.equal(lb.servername, false, 'no SNI: false, as Node');
    assert.equal(lb.alpnProtocol, false);
    assert.equal(lb.protocol, 'TLSv1.2');
    assert.equal(lb.cipher.name, b.getCipher().name);
    assert.equal(lb.bytesRead, 0);
    a.end();
    await waitFor(async () => (await listed(d)).length === 1, ms(5000), 'the closed connection to leave');
    assert.equal((await listed(d))[0].remotePort, b.clientPort);
    b.destroy();
  });

test('client certificates, resumption and handshakes still under way are shown', async (t) => {
  const d = await startTlsd({ t, config: { ...ecCreds(), ca: [fixture('client-ca.pem')], requestCert: true,
    rejectUnauthorized: false }, control: true, workers: 1 });
  const alice = await connectTls(d.port, { key: readFixture('client-key.pem'), cert: readFixture('client-cert.pem'),
    owner: d });
  const peer = alice.getCertificate();
  const anon = await connectTls(d.port, { owner: d });
  const silent = await connectTcp(d.port);
  const opts = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' };
  const session = await sessionFrom(d.port, opts);
  const again = await connectTls(d.port, { ...opts, session, owner: d });
  assert.ok(again.isSessionReused());
  const list = await listed(d);
  const la = byPort(list, alice);
  assert.equal(la.authorized, true);
  assert.equal(la.authorizationError, null);
  assert.deepEqual(la.peerCertificate, {
    subject: 'CN=alice', issuer: 'CN=tlsd test client CA', valid_from: peer.valid_from, valid_to: peer.valid_to,
    fingerprint256: peer.fingerprint256, serialNumber: peer.serialNumber,
  });
  const ln = byPort(list, anon);
  assert.equal(ln.authorized, false);
  assert.equal(ln.authorizationError, 'UNABLE_TO_GET_ISSUER_CERT');
  assert.equal(ln.peerCertificate, null);
  const ls = byPort(list, silent);
  assert.equal(ls.state, 'handshake');
  assert.equal(ls.protocol, null);
  assert.equal(ls.cipher, null);
  assert.equal(byPort(list, again).resumed, true);
  for (const s of [alice, anon, silent, again]) s.destroy();
});

test('a killed worker\'s connections leave the list; the other worker\'s stay', async (t) => {
  const d = await startTlsd({ t, args: ['--demo'], control: true, workers: 2 });
  await d.waitWorkers(2);
  const socks = [];
  for (let i = 0; i < 12 && new Set(socks.map((s) => d.ownerOf(s))).size < 2; i++) {
    const s = await d.connect();
    await echo(s, 'x');
    socks.push(s);
  }
  const victim = d.ownerOf(socks[0]);
  const survivors = socks.filter((s) => d.ownerOf(s) !== victim);
  assert.ok(survivors.length > 0, 'both workers hold connections');
  assert.equal((await listed(d)).length, socks.length);
  process.kill(victim, 'SIGKILL');
  await waitFor(() => d.workerPids().length === 2 && !d.workerPids().includes(victim), ms(5000), 'a replacement');
  const list = await waitFor(async () => {
    const l = await listed(d);
    return l.length === survivors.length ? l : null;
  }, ms(5000), 'only the survivors listed');
  assert.deepEqual(list.map((c) => c.remotePort).sort(), survivors.map((s) => s.clientPort).sort());
  assert.ok(list.every((c) => c.worker !== victim));
  for (const s of socks) s.destroy();
});

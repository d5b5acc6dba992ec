// contexts.test.mjs - SNI contexts (Node's addContext): from the config and
// at runtime through /v1/contexts, on every worker at once, with the SPEC's
// matching rules, surviving a worker's death and a master restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startTlsd, ecCreds, connectTls, fixture, readFixture, tmpdir, waitFor, ms } from './lib.mjs';

const A = { key: readFixture('sni-a-key.pem').toString(), cert: readFixture('sni-a-cert.pem').toString() };
const RSA = { key: readFixture('rsa-key.pem').toString(), cert: readFixture('rsa-cert.pem').toString() };

// served(d, servername): subject CN and fingerprint of the certificate a
// client asking for <servername> gets (undefined: no SNI sent).
async function served(d, servername) {
  const s = await connectTls(d.port, { servername: servername ?? '', owner: d });
  const cert = s.getPeerCertificate();
  const worker = d.ownerOf(s);
  s.destroy();
  return { cn: cert.subject.CN, fingerprint256: cert.fingerprint256, keyType: cert.asn1Curve ? 'EC' : 'RSA', worker };
}

async function cnOf(d, servername) {
  return (await served(d, servername)).cn;
}

// servedOnWorkers(d, name, n): the CNs of n connections and the workers that served them.
async function servedMany(d, name, n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await served(d, name));
  return { cns: new Set(out.map((r) => r.cn)), workers: new Set(out.map((r) => r.worker)) };
}

test('config contexts: the matching hostname gets its certificate, case-insensitively; others the default',
  async (t) => {
    const d = await startTlsd({ t, config: { ...ecCreds(), contexts: [{ hostname: 'a.example.com', key: fixture('sni-a-key.pem'), cert: fixture('sni-a-cert.pem') }] }, workers: 2 });
    assert.equal(await cnOf(d, 'a.example.com'), 'a.example.com');
    assert.equal(await cnOf(d, 'A.Example.COM'), 'a.example.com');
    assert.equal(await cnOf(d, 'b.example.com'), 'localhost');
    assert.equal(await cnOf(d, 'localhost'), 'localhost');
    assert.equal(await cnOf(d, undefined), 'localhost', 'no SNI: the default certificate');
  });

test('POST /v1/contexts: 24 connections through 4 workers all get the new certificate at once; after DELETE none does',
  async (t) => {
    const d = await startTlsd({ t, config: ecCreds(), control: true, workers: 4 });
    await d.waitWorkers(4);
    assert.equal(await cnOf(d, 'a.example.com'), 'localhost', 'before: the default');
    const r = await d.api('POST', '/v1/contexts', { body: { hostname: 'a.example.com', ...A } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.hostname, 'a.example.com');
    assert.equal(r.json.source, 'api');
    const after = await servedMany(d, 'a.example.com', 24);
    assert.deepEqual([...after.cns], ['a.example.com']);
    assert.ok(after.workers.size >= 2, `served by ${after.workers.size} workers`);
    assert.equal((await d.api('DELETE', '/v1/contexts/a.example.com')).status, 204);
    const gone = await servedMany(d, 'a.example.com', 24);
    assert.deepEqual([...gone.cns], ['localhost']);
    assert.equal((await d.api('DELETE', '/v1/contexts/a.example.com')).status, 404);
  });

test('wildcards cover one label; the most recently added match wins; names are case-insensitive', async (t) => {
  const d = await startTlsd({ t, config: ecCreds(), control: true, workers: 2 });
  assert.equal((await d.api('POST', '/v1/contexts', { body: { hostname: 'a.example.com', ...A } })).status, 201);
  assert.equal((await d.api('POST', '/v1/contexts', { body: { hostname: '*.Example.com', ...RSA } })).status, 201);
  // RSA's certificate says CN=localhost: tell it from the default by key type.
  const wild = await served(d, 'b.example.com');
  assert.equal(wild.keyType, 'RSA', 'b.example.com: the wildcard');
  assert.equal((await served(d, 'B.EXAMPLE.COM')).keyType, 'RSA');
  assert.equal((await served(d, 'x.b.example.com')).keyType, 'EC', 'two labels: not covered');
  assert.equal((await served(d, 'example.com')).keyType, 'EC', 'the bare domain: not covered');
  assert.equal((await served(d, 'a.example.com')).keyType, 'RSA', 'the wildcard was added after the exact name');
  assert.equal((await d.api('POST', '/v1/contexts', { body: { hostname: 'A.example.com', ...A } })).status, 201);
  assert.equal(await cnOf(d, 'a.example.com'), 'a.example.com', 're-added: the exact name is newest now');
  const list = (await d.api('GET', '/v1/contexts')).json;
  assert.deepEqual(list.map((c) => c.hostname), ['*.example.com', 'a.example.com']);
});

test('bad contexts are 400 naming the field and change nothing', async (t) => {
  const d = await startTlsd({ t, config: ecCreds(), control: true, workers: 1 });
  assert.equal((await d.api('POST', '/v1/contexts', { body: { hostname: 'keep.example.com', ...A } })).status, 201);
  // expiresIn counts down by the second: compared apart from the rest.
  const listing = async () => (await d.api('GET', '/v1/contexts')).json.map((c) => ({
    ...c, certificates: c.certificates.map(({ expiresIn, ...cert }) => ({ ...cert, expiresSoon: expiresIn < 60 })),
  }));
  const before = await listing();
  const dir = path.join(d.stateDir, 'contexts');
  const files = fs.readdirSync(dir).sort();
  const cases = [
    [{ ...A }, /^hostname: required/],
    [{ hostname: 'a..example.com', ...A }, /^hostname: "a\.\.example\.com" is not a DNS name/],
    [{ hostname: 'x.example.com', key: A.key }, /^cert: required with key/],
    [{ hostname: 'x.example.com', key: RSA.key, cert: A.cert }, /key\[0\]: matches no certificate in cert/],
    [{ hostname: 'x.example.com', key: A.key, cert: '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n' }, /^cert\[0\]: /],
    [{ hostname: 'x.example.com', key: A.key, cert: '/nonexistent/cert.pem' }, /^a file named in key, cert, ca, pfx or ocsp cannot be used/],
    [{ hostname: 'x.example.com', ...A, extra: 1 }, /^extra: unknown field/],
    [{ hostname: 'keep.example.com', key: RSA.key, cert: A.cert }, /key\[0\]: matches no certificate/],
  ];
  for (const [body, re] of cases) {
    const r = await d.api('POST', '/v1/contexts', { body });
    assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 80)}: ${r.text}`);
    assert.match(r.json.error.message, re);
    assert.deepEqual(await listing(), before);
    assert.deepEqual(fs.readdirSync(dir).sort(), files);
  }
  assert.equal(await cnOf(d, 'keep.example.com'), 'a.example.com', 'a failed replacement left the old one serving');
  assert.equal(await cnOf(d, 'x.example.com'), 'localhost');
});

test('GET /v1/contexts describes certificates as Node does and never shows key material', async (t) => {
  const d = await startTlsd({ t, config: ecCreds(), control: true, workers: 1 });
  await d.api('POST', '/v1/contexts', { body: { hostname: 'a.example.com', ...A } });
  const r = await d.api('GET', '/v1/contexts');
  assert.equal(r.status, 200);
  assert.doesNotMatch(r.text, /PRIVATE KEY/);
  const [ctx] = r.json;
  const s = await connectTls(d.port, { servername: 'a.example.com' });
  const peer = s.getPeerCertificate();
  s.destroy();
  const expiresIn = Math.floor(Date.parse(peer.valid_to) / 1000) - Math.floor(Date.now() / 1000);
  assert.ok(Math.abs(ctx.certificates[0]?.expiresIn - expiresIn) <= 2, `expiresIn ${ctx.certificates[0]?.expiresIn}`);
  assert.deepEqual(ctx.certificates, [{
    subject: 'CN=a.example.com', issuer: 'CN=tlsd test CA', valid_from: peer.valid_from, valid_to: peer.valid_to,
    fingerprint256: peer.fingerprint256, serialNumber: peer.serialNumber, keyType: 'EC',
    expiresIn: ctx.certificates[0].expiresIn,
  }]);
  const file = fs.readdirSync(path.join(d.stateDir, 'contexts'))[0];
  assert.equal(fs.statSync(path.join(d.stateDir, 'contexts', file)).mode & 0o777, 0o600, 'the state file holds a key');
});

test('a worker killed after a runtime change is replaced and serves the change', async (t) => {
  const d = await startTlsd({ t, config: ecCreds(), control: true, workers: 2 });
  const pids = await d.waitWorkers(2);
  await d.api('POST', '/v1/contexts', { body: { hostname: 'a.example.com', ...A } });
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  await waitFor(() => {
    const now = d.workerPids();
    return now.length === 2 && now.every((p) => !pids.includes(p));
  }, ms(10000), 'two replacement workers');
  const r = await servedMany(d, 'a.example.com', 8);
  assert.deepEqual([...r.cns], ['a.example.com']);
});

test('a master restarted with the same state dir serves the runtime-added contexts', async (t) => {
  const stateDir = path.join(tmpdir(), 'state');
  const a = await startTlsd({ t, config: ecCreds(), control: true, stateDir, workers: 2 });
  await a.api('POST', '/v1/contexts', { body: { hostname: '*.example.com', ...RSA } });
  await a.api('POST', '/v1/contexts', { body: { hostname: 'a.example.com', ...A } });
  await a.api('POST', '/v1/contexts', { body: { hostname: 'gone.example.com', ...A } });
  await a.api('DELETE', '/v1/contexts/gone.example.com');
  await a.stop();
  const b = await startTlsd({ t, config: ecCreds(), control: true, stateDir, workers: 2 });
  assert.deepEqual((await b.api('GET', '/v1/contexts')).json.map((c) => [c.hostname, c.source]),
    [['*.example.com', 'api'], ['a.example.com', 'api']]);
  assert.equal(await cnOf(b, 'a.example.com'), 'a.example.com', 'the exact name, added last, still wins');
  assert.equal((await served(b, 'b.example.com')).keyType, 'RSA');
  assert.equal((await served(b, 'gone.example.com')).keyType, 'RSA', 'deleted: the wildcard covers it now');
});

test('DELETE of a config context stops serving it', async (t) => {
  const d = await startTlsd({ t, config: { ...ecCreds(), contexts: [{ hostname: 'a.example.com', key: fixture('sni-a-key.pem'), cert: fixture('sni-a-cert.pem') }] }, control: true, workers: 2 });
  assert.equal((await d.api('GET', '/v1/contexts')).json[0].source, 'config');
  assert.equal((await d.api('DELETE', '/v1/contexts/A.EXAMPLE.COM')).status, 204);
  assert.deepEqual([...(await servedMany(d, 'a.example.com', 6)).cns], ['localhost']);
});

test('a context\'s own "ca" decides which client certificates verify for its hostname', async (t) => {
  const d = await startTlsd({ t, config: { ...ecCreds(), requestCert: true, rejectUnauthorized: false,
    contexts: [{ hostname: 'a.example.com', key: fixture('sni-a-key.pem'), cert: fixture('sni-a-cert.pem'),
      ca: fixture('client-ca.pem') }] }, control: true, workers: 1 });
  const alice = { key: readFixture('client-key.pem'), cert: readFixture('client-cert.pem') };
  const viaContext = await connectTls(d.port, { servername: 'a.example.com', ...alice, owner: d });
  const viaDefault = await connectTls(d.port, { servername: 'localhost', ...alice, owner: d });
  const list = (await d.api('GET', '/v1/connections')).json;
  const of = (s) => list.find((c) => c.remotePort === s.clientPort);
  assert.equal(of(viaContext).authorized, true, 'the context trusts the client CA');
  assert.equal(of(viaContext).peerCertificate.subject, 'CN=alice');
  assert.equal(of(viaDefault).authorized, false, 'the default credentials trust no client CA');
  assert.ok(of(viaDefault).authorizationError);
  viaContext.destroy();
  viaDefault.destroy();
});

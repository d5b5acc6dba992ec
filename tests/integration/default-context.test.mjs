// default-context.test.mjs - the "*" context: Node's setSecureContext at
// runtime. POST /v1/contexts with "hostname": "*" replaces the config's
// key/cert for clients without SNI and those whose name matches no context,
// on every worker from its next accepted connection on, without a reload;
// open connections keep going; DELETE goes back to the config's; it
// survives a master restart; bad input changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  startTlsd, ecCreds, connectTls, echo, fixture, readFixture, tmpdir, expectStartFailure, waitFor, ms,
} from './lib.mjs';

const A = { key: readFixture('sni-a-key.pem').toString(), cert: readFixture('sni-a-cert.pem').toString() };
const RSA = { key: readFixture('rsa-key.pem').toString(), cert: readFixture('rsa-cert.pem').toString() };
const fingerprintOf = (pem) => new crypto.X509Certificate(pem).fingerprint256;
const CONFIG_FP = fingerprintOf(readFixture('ec-cert.pem'));
const A_FP = fingerprintOf(A.cert);
const RSA_FP = fingerprintOf(RSA.cert);

// served(d, servername): the fingerprint of the certificate a client asking
// for <servername> gets (undefined: no SNI at all) and the worker that served it.
async function served(d, servername) {
  const s = await connectTls(d.port, { servername: servername ?? '', owner: d });
  const fingerprint = s.getPeerCertificate().fingerprint256;
  const worker = d.ownerOf(s);
  s.destroy();
  return { fingerprint, worker };
}

// servedMany(d, name, n): the fingerprints of n connections and the workers
// they met, then of one more on each worker they did not meet: sequential
// connections may all land on one worker (the kernel wakes whichever
// waits), so those met are stopped (SIGSTOP) while the others are tried.
async function servedMany(d, name, n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await served(d, name));
  const pids = d.workerPids();
  for (let tries = 0; tries < pids.length; tries++) {
    const met = new Set(out.map((r) => r.worker));
    const frozen = pids.filter((p) => met.has(p));
    if (frozen.length === pids.length) break;
    for (const p of frozen) process.kill(p, 'SIGSTOP');
    try {
      out.push(await served(d, name));
    } finally {
      for (const p of frozen) process.kill(p, 'SIGCONT');
    }
  }
  return { fps: [...new Set(out.map((r) => r.fingerprint))], workers: new Set(out.map((r) => r.worker)) };
}

const metricFps = (text) => [...text.matchAll(/^tlsd_certificate_not_after_seconds\{hostname="([^"]*)",fingerprint="([^"]*)"\} (\d+)$/gm)]
  .map((m) => [m[1], m[2], Number(m[3])]);

test('POST "*": every worker serves the new default to clients without SNI or with an unmatched name; a context still wins; DELETE goes back',
  async (t) => {
    const d = await startTlsd({ t, config: ecCreds(), control: true, workers: 3 });
    await d.waitWorkers(3);
    assert.equal((await d.api('POST', '/v1/contexts', { body: { hostname: 'rsa.example.com', ...RSA } })).status, 201);
    assert.deepEqual((await servedMany(d, undefined, 6)).fps, [CONFIG_FP], 'before: the config\'s certificate');
    const old = await connectTls(d.port, { servername: '', owner: d });
    assert.equal((await echo(old, 'before')).toString(), 'before');

    const r = await d.api('POST', '/v1/contexts', { body: { hostname: '*', ...A } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.hostname, '*');
    assert.equal(r.json.source, 'api');
    assert.equal(r.json.certificates[0].fingerprint256, A_FP);

    const noSni = await servedMany(d, undefined, 18);
    assert.deepEqual(noSni.fps, [A_FP], 'no SNI: the new default on every connection');
    assert.equal(noSni.workers.size, 3, `served by ${noSni.workers.size} workers`);
    const unmatched = await servedMany(d, 'nothing.example.org', 12);
    assert.deepEqual(unmatched.fps, [A_FP], 'a name no context has: the new default');
    assert.equal(unmatched.workers.size, 3, `served by ${unmatched.workers.size} workers`);
    assert.deepEqual((await servedMany(d, 'RSA.example.com', 8)).fps, [RSA_FP], 'a matching context still wins over "*"');

    assert.equal((await echo(old, 'after')).toString(), 'after', 'a connection opened before keeps echoing');
    assert.equal(old.getPeerCertificate().fingerprint256, CONFIG_FP);

    const list = (await d.api('GET', '/v1/contexts')).json;
    assert.deepEqual(list.map((c) => [c.hostname, c.source]), [['rsa.example.com', 'api'], ['*', 'api']]);
    const star = list.find((c) => c.hostname === '*');
    const notAfter = Math.floor(new Date(new crypto.X509Certificate(A.cert).validTo).getTime() / 1000);
    assert.ok(Math.abs(star.certificates[0].expiresIn - (notAfter - Math.floor(Date.now() / 1000))) <= 2,
      `expiresIn ${star.certificates[0].expiresIn}`);
    const metrics = metricFps((await d.api('GET', '/metrics')).text);
    assert.deepEqual(metrics.filter((m) => m[0] === '*'), [['*', A_FP, notAfter]],
      'the metric shows the new default, not the config\'s');
    // Counts by context: the "*" context shares the no-SNI series (one
    // "*" label); names no context has count as "other".
    const sni = (await d.api('GET', '/v1/stats')).json.contexts;
    assert.deepEqual(sni.filter((c) => c.hostname === '*').length, 1, JSON.stringify(sni));
    // (Each connection of served() closes as soon as its handshake ends on
    // the client's side: most count as failed, client_closed; all count.)
    const tried = (h) => sni.find((c) => c.hostname === h).handshakes;
    const sum = (x) => x.full + x.failed;
    assert.ok(sum(tried('*')) >= 6 + 18, JSON.stringify(sni));
    assert.ok(sum(tried('other')) >= 12, JSON.stringify(sni));
    assert.ok(sum(tried('rsa.example.com')) >= 8, JSON.stringify(sni));

    const del = await d.api('DELETE', '/v1/contexts/*');
    assert.equal(del.status, 204, del.text);
    assert.deepEqual((await servedMany(d, undefined, 12)).fps, [CONFIG_FP], 'deleted: the config\'s again');
    assert.deepEqual((await servedMany(d, 'nothing.example.org', 6)).fps, [CONFIG_FP]);
    assert.deepEqual(metricFps((await d.api('GET', '/metrics')).text).filter((m) => m[0] === '*').map((m) => m[1]),
      [CONFIG_FP]);
    const again = await d.api('DELETE', '/v1/contexts/%2A');
    assert.equal(again.status, 404);
    assert.match(again.json.error.message, /the config's key and cert already serve/);
    assert.equal((await echo(old, 'still')).toString(), 'still');
    old.destroy();
  });

test('bad "*" bodies are 400 naming the field; the default serving before keeps serving', async (t) => {
  const d = await startTlsd({ t, config: ecCreds(), control: true, workers: 2 });
  await d.waitWorkers(2);
  const cases = [
    [{ key: RSA.key, cert: A.cert }, /^key\[0\]: matches no certificate in cert/],
    [{ key: A.key, cert: '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n' }, /^cert\[0\]: /],
    [{ key: '-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n', cert: A.cert }, /^key\[0\]: /],
    [{ key: A.key, cert: '/nonexistent/cert.pem' }, /^a file named in key, cert, ca, pfx or ocsp cannot be used/],
    [{ key: readFixture('rsa-key-enc.pem').toString(), cert: RSA.cert, passphrase: 'wrong' }, /^key\[0\]: .*passphrase/],
    [{ key: A.key }, /^cert: required with key/],
  ];
  const dir = path.join(d.stateDir, 'contexts');
  const files = () => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);
  // Twice: over the config's default, then over a "*" already added.
  for (const [expected, what] of [[CONFIG_FP, 'the config\'s'], [A_FP, 'the earlier "*"']]) {
    const before = { list: (await d.api('GET', '/v1/contexts')).json.map((c) => c.hostname), files: files() };
    for (const [body, re] of cases) {
      const r = await d.api('POST', '/v1/contexts', { body: { hostname: '*', ...body } });
      assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 60)}: ${r.text}`);
      assert.match(r.json.error.message, re);
      assert.deepEqual((await d.api('GET', '/v1/contexts')).json.map((c) => c.hostname), before.list);
      assert.deepEqual(files(), before.files);
      assert.deepEqual((await servedMany(d, undefined, 4)).fps, [expected], `${what} still serves`);
    }
    assert.equal((await d.api('POST', '/v1/contexts', { body: { hostname: '*', ...A } })).status, 201);
  }
  const good = await d.api('POST', '/v1/contexts', {
    body: { hostname: '*', key: readFixture('rsa-key-enc.pem').toString(), cert: RSA.cert, passphrase: 'secret' },
  });
  assert.equal(good.status, 201, good.text);
  assert.deepEqual((await servedMany(d, undefined, 6)).fps, [RSA_FP], 'an encrypted key with its passphrase');
  // TLS 1.2 picks its suite by the certificate: the "*" one (RSA), not the config's (ECDSA).
  const s12 = await connectTls(d.port, { servername: '', maxVersion: 'TLSv1.2', owner: d });
  assert.equal(s12.getPeerCertificate().fingerprint256, RSA_FP);
  assert.match(s12.getCipher().name, /^ECDHE-RSA-/);
  s12.destroy();
});

test('a master restarted with the state dir serves the "*" context; after DELETE, the config\'s', async (t) => {
  const stateDir = path.join(tmpdir(), 'state');
  const a = await startTlsd({ t, config: ecCreds(), control: true, stateDir, workers: 2 });
  assert.equal((await a.api('POST', '/v1/contexts', { body: { hostname: '*', ...A } })).status, 201);
  assert.ok(fs.existsSync(path.join(stateDir, 'contexts', '%2A.json')));
  await a.stop();
  const b = await startTlsd({ t, config: ecCreds(), control: true, stateDir, workers: 2 });
  await b.waitWorkers(2);
  assert.deepEqual((await b.api('GET', '/v1/contexts')).json.map((c) => [c.hostname, c.source]), [['*', 'api']]);
  const r = await servedMany(b, undefined, 10);
  assert.deepEqual(r.fps, [A_FP], 'restarted: the "*" context is the default');
  assert.equal(r.workers.size, 2, `served by ${r.workers.size} workers`);
  assert.equal((await b.api('DELETE', '/v1/contexts/%2A')).status, 204);
  assert.ok(!fs.existsSync(path.join(stateDir, 'contexts', '%2A.json')));
  await b.stop();
  const c = await startTlsd({ t, config: ecCreds(), control: true, stateDir, workers: 1 });
  assert.deepEqual((await c.api('GET', '/v1/contexts')).json, []);
  assert.deepEqual((await servedMany(c, undefined, 3)).fps, [CONFIG_FP]);
});

test('a "*" context\'s ca replaces the default\'s trust for client certificates (requestCert)', async (t) => {
  const d = await startTlsd({ t, config: { ...ecCreds(), requestCert: true, rejectUnauthorized: false },
    control: true, workers: 1 });
  const alice = { key: readFixture('client-key.pem'), cert: readFixture('client-cert.pem') };
  const authorized = async () => {
    const s = await connectTls(d.port, { servername: '', ...alice, owner: d });
    const list = (await d.api('GET', '/v1/connections')).json;
    s.destroy();
    return list.find((c) => c.remotePort === s.clientPort).authorized;
  };
  assert.equal(await authorized(), false, 'the config\'s default has no ca');
  assert.equal((await d.api('POST', '/v1/contexts', {
    body: { hostname: '*', ...A, ca: readFixture('client-ca.pem').toString() },
  })).status, 201);
  assert.equal(await authorized(), true, 'the "*" context trusts the client CA');
  assert.equal((await d.api('POST', '/v1/contexts', { body: { hostname: '*', ...A } })).status, 201);
  assert.equal(await authorized(), false, 'a "*" context without ca: nothing verifies, as for any context');
});

test('a config "contexts" element may not be "*": the top-level key/cert are the default', async () => {
  const r = await expectStartFailure([], {
    config: { ...ecCreds(), contexts: [{ hostname: '*', key: fixture('sni-a-key.pem'), cert: fixture('sni-a-cert.pem') }] },
  });
  assert.match(r.stderr, /contexts\[0\]\.hostname: "\*" is the default certificate/);
});

test('/v1/secure-context (Node\'s setSecureContext): GET shows the default served, PUT replaces it, DELETE goes back',
  async (t) => {
    const d = await startTlsd({ t, config: ecCreds(), control: true, workers: 2 });
    await d.waitWorkers(2);
    const shown = async () => {
      const r = await d.api('GET', '/v1/secure-context');
      assert.equal(r.status, 200, r.text);
      return [r.json.hostname, r.json.source, r.json.certificates.map((c) => c.fingerprint256)];
    };
    assert.deepEqual(await shown(), ['*', 'config', [CONFIG_FP]]);
    const put = await d.api('PUT', '/v1/secure-context', { body: A });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual([put.json.hostname, put.json.source], ['*', 'api']);
    assert.deepEqual(await shown(), ['*', 'api', [A_FP]]);
    assert.deepEqual((await servedMany(d, undefined, 10)).fps, [A_FP]);
    assert.deepEqual((await d.api('GET', '/v1/contexts')).json.map((c) => c.hostname), ['*'], 'the same "*" context');

    const named = await d.api('PUT', '/v1/secure-context', { body: { hostname: 'x.example.com', ...RSA } });
    assert.equal(named.status, 400);
    assert.match(named.json.error.message, /^hostname: unknown field/);
    const bad = await d.api('PUT', '/v1/secure-context', { body: { key: RSA.key, cert: A.cert } });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /^key\[0\]: matches no certificate in cert/);
    assert.deepEqual(await shown(), ['*', 'api', [A_FP]], 'a refused PUT changed nothing');

    assert.equal((await d.api('DELETE', '/v1/secure-context')).status, 204);
    assert.deepEqual(await shown(), ['*', 'config', [CONFIG_FP]]);
    assert.deepEqual((await servedMany(d, undefined, 6)).fps, [CONFIG_FP]);
    assert.equal((await d.api('DELETE', '/v1/secure-context')).status, 404);
  });

test('a SIGHUP reload keeps the "*" context: it still wins over the reloaded key/cert until DELETE', async (t) => {
  const file = path.join(tmpdir(), 'tlsd.json');
  fs.writeFileSync(file, JSON.stringify(ecCreds()));
  const d = await startTlsd({ t, config: file, control: true, workers: 2 });
  assert.equal((await d.api('POST', '/v1/contexts', { body: { hostname: '*', ...A } })).status, 201);
  fs.writeFileSync(file, JSON.stringify({ key: fixture('rsa-key.pem'), cert: fixture('rsa-cert.pem') }));
  const from = d.stderr.length;
  d.signal('SIGHUP');
  await waitFor(() => /configuration reloaded/.test(d.stderr.slice(from)), ms(10000), 'the reload');
  assert.deepEqual((await servedMany(d, undefined, 6)).fps, [A_FP]);
  assert.equal((await d.api('DELETE', '/v1/contexts/*')).status, 204);
  assert.deepEqual((await servedMany(d, undefined, 6)).fps, [RSA_FP], 'the reloaded config\'s key/cert');
  assert.deepEqual((await d.api('GET', '/v1/secure-context')).json.certificates.map((c) => c.fingerprint256), [RSA_FP]);
});

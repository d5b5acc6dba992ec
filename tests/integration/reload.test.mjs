// reload.test.mjs - SIGHUP reloads the config file and its certificates
// without dropping a connection: new workers serve the new generation,
// the old ones drain; a bad config changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startTlsd, connectTls, echo, fixture, readFixture, tmpdir, waitFor, ms } from './lib.mjs';

const EC = { key: fixture('ec-key.pem'), cert: fixture('ec-cert.pem') };
const A = { key: fixture('sni-a-key.pem'), cert: fixture('sni-a-cert.pem') };

function writeJson(file, obj) {
  fs.writeFileSync(file, JSON.stringify(obj));
}

async function cnOf(d, servername = 'localhost') {
  const s = await connectTls(d.port, { servername, owner: d });
  const cn = s.getPeerCertificate().subject.CN;
  s.destroy();
  return cn;
}

// reloadAndWait(d, pattern): SIGHUP, then the stderr line matching <pattern>.
async function reloadAndWait(d, pattern) {
  const from = d.stderr.length;
  d.signal('SIGHUP');
  await waitFor(() => pattern.test(d.stderr.slice(from)), ms(10000), `stderr matching ${pattern}`);
  return d.stderr.slice(from);
}

async function startWithFile(t, cfg, workers = 2) {
  const file = path.join(tmpdir(), 'tlsd.json');
  writeJson(file, cfg);
  const d = await startTlsd({ t, config: file, control: true, workers });
  await d.waitWorkers(workers);
  return { d, file };
}

test('SIGHUP: new connections get the new certificate; an open connection keeps working until it ends',
  async (t) => {
    const { d, file } = await startWithFile(t, { ...EC });
    const before = d.workerPids();
    const held = await d.connect();
    await echo(held, 'before');
    assert.equal(await cnOf(d), 'localhost');
    writeJson(file, { ...A });
    await reloadAndWait(d, /configuration reloaded/);
    for (let i = 0; i < 6; i++) assert.equal(await cnOf(d), 'a.example.com', `new connection ${i}`);
    assert.equal((await echo(held, 'still here')).toString(), 'still here', 'the held connection was not dropped');
    const now = d.workerPids();
    assert.ok(now.some((p) => !before.includes(p)), 'new workers serve the new generation');
    held.end();
    // The old workers drain and leave once their last connection is done.
    await waitFor(() => d.workerPids().length === 2 && d.workerPids().every((p) => !before.includes(p)),
      ms(10000), 'the old workers to exit');
    const stats = (await d.api('GET', '/v1/stats')).json;
    assert.equal(stats.workers.filter((w) => w.pid > 0).length, 2);
    assert.ok(stats.connections.total >= 8, 'the old workers\' connections stay counted');
    assert.equal(stats.connections.current, 0);
  });

test('SIGHUP with a broken config: refused, naming the key; the running config keeps serving', async (t) => {
  const { d, file } = await startWithFile(t, { ...EC });
  const before = d.workerPids().sort();
  writeJson(file, { key: fixture('rsa-key.pem'), cert: fixture('sni-a-cert.pem') });
  const out = await reloadAndWait(d, /reload refused/);
  assert.match(out, /key\[0\]: matches no certificate/);
  fs.writeFileSync(file, '{"key": ');
  assert.match(await reloadAndWait(d, /reload refused/), /tlsd\.json:1:\d+/);
  assert.equal(await cnOf(d), 'localhost');
  assert.deepEqual(d.workerPids().sort(), before, 'no worker was replaced');
  assert.equal(d.exited, null);
});

test('SIGHUP: a setting only a restart can change is refused, naming it', async (t) => {
  const { d, file } = await startWithFile(t, { ...EC });
  writeJson(file, { ...A, sessionCache: { size: 10 } });
  assert.match(await reloadAndWait(d, /reload refused/), /sessionCache\.size: changed; only a restart applies it/);
  assert.equal(await cnOf(d), 'localhost');
});

test('SIGHUP keeps runtime-added contexts and runtime ticket keys; applies new config contexts', async (t) => {
  const { d, file } = await startWithFile(t, { ...EC });
  const rsa = { key: readFixture('rsa-key.pem').toString(), cert: readFixture('rsa-cert.pem').toString() };
  assert.equal((await d.api('POST', '/v1/contexts', { body: { hostname: 'rsa.example.com', ...rsa } })).status, 201);
  assert.equal((await d.api('POST', '/v1/ticket-keys/rotate')).status, 200);
  const keys = (await d.api('GET', '/v1/ticket-keys')).json.keys;
  writeJson(file, { ...EC, contexts: [{ hostname: 'a.example.com', ...A }] });
  await reloadAndWait(d, /configuration reloaded/);
  assert.equal(await cnOf(d, 'a.example.com'), 'a.example.com', 'the new config context');
  const s = await connectTls(d.port, { servername: 'rsa.example.com' });
  assert.equal(s.getPeerCertificate().asn1Curve, undefined, 'the runtime context (RSA) still served');
  s.destroy();
  assert.deepEqual((await d.api('GET', '/v1/contexts')).json.map((c) => [c.hostname, c.source]),
    [['a.example.com', 'config'], ['rsa.example.com', 'api']]);
  assert.equal((await d.api('GET', '/v1/ticket-keys')).json.keys, keys, 'an unchanged config keeps runtime keys');
});

test('a second SIGHUP while the old workers still drain is refused', async (t) => {
  const { d, file } = await startWithFile(t, { ...EC, shutdownTimeout: 60000 });
  const held = await d.connect();
  await echo(held, 'x');
  writeJson(file, { ...A, shutdownTimeout: 60000 });
  await reloadAndWait(d, /configuration reloaded/);
  assert.match(await reloadAndWait(d, /reload refused|still draining/), /still draining/);
  held.end();
  await waitFor(() => d.workerPids().length === 2, ms(10000), 'the old worker to finish');
  await reloadAndWait(d, /configuration reloaded/);
  assert.equal(await cnOf(d), 'a.example.com');
});

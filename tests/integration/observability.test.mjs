// observability.test.mjs - what an operator can see: handshake failures by
// reason (/v1/stats and /metrics), the handshake duration histogram, the
// expiry of every certificate served, reload results, and a /healthz that
// turns 503 when a worker's loop stops (SIGSTOP) and 200 again after SIGCONT.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  test, startTlsd, ecCreds, fixture, connectTcp, waitClose, waitFor, writeConfig, echo, sessionFrom,
  resumedWith, haveTool, tmpdir, runTool, ms, sleep,
} from './lib.mjs';

const REASONS = ['timeout', 'protocol_version', 'no_shared_cipher', 'bad_certificate', 'client_closed', 'not_tls',
  'too_large', 'other'];
const TLS12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' };

async function stats(d) {
  const r = await d.api('GET', '/v1/stats');
  assert.equal(r.status, 200, r.text);
  return r.json;
}

async function metricsText(d) {
  const r = await d.api('GET', '/metrics');
  assert.equal(r.status, 200, r.text);
  if (haveTool('promtool')) {
    const p = spawnSync('promtool', ['check', 'metrics'], { input: r.text, encoding: 'utf8' });
    assert.equal(p.status, 0, `promtool check metrics:\n${p.stdout}${p.stderr}`);
  }
  return r.text;
}

// samples(text, family): Map('name{labels}' -> number) of the lines of <family>.
function samples(text, family) {
  const m = new Map();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(family)) continue;
    const cut = line.lastIndexOf(' ');
    m.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return m;
}

// failed(d, n): waits for n clientError records in all.
const clientErrors = (d) => d.logs.filter((r) => r.event === 'clientError').length;

// tlsFails(d, opts): a node TLS client that must fail its handshake.
async function tlsFails(d, opts) {
  await assert.rejects(d.connect(opts), `handshake with ${JSON.stringify(Object.keys(opts))} fails`);
}

// ---------------------------------------------------------- failures by reason

const provoke = {
  timeout: async (d) => waitClose(await connectTcp(d.port), ms(5000)),
  // A TLS 1.1-only ClientHello (SECLEVEL=0: the client's OpenSSL would refuse to send it).
  protocol_version: (d) => tlsFails(d, { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1',
    ciphers: 'DEFAULT@SECLEVEL=0' }),
  // The certificate is ECDSA: an ECDHE-RSA suite alone shares nothing with it.
  no_shared_cipher: (d) => tlsFails(d, { ...TLS12, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }),
  // The client does not trust the server's certificate and says so in an
  // alert (node's client would just close: it checks after the handshake).
  // TLS 1.2 here; TLS 1.3 in the next test.
  bad_certificate: async (d) => {
    const r = await runTool('openssl', ['s_client', '-tls1_2', '-connect', `127.0.0.1:${d.port}`,
      '-verify_return_error',
      '-CAfile', fixture('rsa-cert.pem')], { input: '' });
    assert.match(r.stdout + r.stderr, /verify error|certificate verify failed/, 'the client refused');
  },
  client_closed: async (d) => {
    const s = await connectTcp(d.port);
    s.end();
    await waitClose(s);
  },
  not_tls: async (d) => {
    const s = await connectTcp(d.port);
    s.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await waitClose(s);
  },
  // ALPN names enough for a ClientHello of about 8 KiB, over maxHandshakeSize 4096.
  too_large: (d) => tlsFails(d, { ALPNProtocols: Array.from({ length: 40 }, (_, i) => `${'p'.repeat(200)}${i}`) }),
};

test('handshake failures by reason: each real client counts once, under its own reason only', async (t) => {
  const d = await startTlsd({ t, config: { ...ecCreds(), handshakeTimeout: ms(300), maxHandshakeSize: 4096 },
    control: true, workers: 1 });
  let before = (await stats(d)).handshakes;
  assert.deepEqual(Object.keys(before.failures), REASONS, 'the fixed set, in order');
  for (const reason of Object.keys(provoke)) {
    const logged = clientErrors(d);
    await provoke[reason](d);
    await waitFor(() => clientErrors(d) > logged, ms(5000), `the clientError line of ${reason}`);
    const after = (await stats(d)).handshakes;
    const delta = Object.fromEntries(REASONS.map((r) => [r, after.failures[r] - before.failures[r]]));
    const want = Object.fromEntries(REASONS.map((r) => [r, r === reason ? 1 : 0]));
    assert.deepEqual(delta, want, `${reason}: ${JSON.stringify(d.logs.at(-1))}`);
    const sum = REASONS.reduce((n, r) => n + after.failures[r], 0);
    assert.equal(sum, after.failed + after.timeout, 'every failure has one reason');
    before = after;
  }
  const m = samples(await metricsText(d), 'tlsd_handshake_failures_total');
  assert.deepEqual(Object.fromEntries(m),
    Object.fromEntries(REASONS.map((r) => [`tlsd_handshake_failures_total{reason="${r}"}`, before.failures[r]])));
});

test('a TLS 1.3 client refusing the certificate counts as bad_certificate, its alert named', async (t) => {
  // OpenSSL sends that alert before it switches to its handshake keys, so
  // GnuTLS, reading with them by then, cannot decrypt it: tlsd finds the
  // unencrypted alert at the end of what the client sent.
  const d = await startTlsd({ t, config: ecCreds(), control: true, workers: 1 });
  const before = (await stats(d)).handshakes.failures;
  const r = await runTool('openssl', ['s_client', '-tls1_3', '-connect', `127.0.0.1:${d.port}`,
    '-verify_return_error', '-CAfile', fixture('rsa-cert.pem')], { input: '' });
  assert.match(r.stdout + r.stderr, /verify error|certificate verify failed/, 'the client refused');
  const line = await d.waitForLog((x) => x.event === 'clientError', ms(5000));
  assert.equal(line.alert, 'CA is unknown');
  const after = (await stats(d)).handshakes.failures;
  assert.equal(after.bad_certificate - before.bad_certificate, 1);
  assert.equal(after.other - before.other, 0);
});

// ------------------------------------------------------------------ histogram

// histogram(text, name, kind): {buckets: [[le, n]], sum, count}, checked:
// cumulative, +Inf last and equal to _count.
function histogram(text, name, kind) {
  assert.match(text, new RegExp(`^# TYPE ${name} histogram$`, 'm'));
  const buckets = [];
  const re = new RegExp(`^${name}_bucket\\{kind="${kind}",le="([^"]+)"\\} (\\d+)$`, 'gm');
  for (const [, le, n] of text.matchAll(re)) buckets.push([le, Number(n)]);
  const one = (suffix) => {
    const r = new RegExp(`^${name}_${suffix}\\{kind="${kind}"\\} ([0-9.e+-]+)$`, 'm').exec(text);
    assert.ok(r, `${name}_${suffix}{kind="${kind}"}`);
    return Number(r[1]);
  };
  const h = { buckets, sum: one('sum'), count: one('count') };
  assert.ok(buckets.length >= 2, 'buckets');
  assert.equal(buckets.at(-1)[0], '+Inf');
  for (let i = 1; i < buckets.length; i++) {
    assert.ok(buckets[i][1] >= buckets[i - 1][1], `cumulative at le=${buckets[i][0]}`);
    if (i < buckets.length - 1) assert.ok(Number(buckets[i][0]) > Number(buckets[i - 1][0]), 'bounds grow');
  }
  assert.equal(buckets.at(-1)[1], h.count, '+Inf equals _count');
  return h;
}

test('handshake duration histogram: full and resumed, counts equal to /v1/stats, valid format', async (t) => {
  const d = await startTlsd({ t, config: ecCreds(), control: true, workers: 2 });
  const h0 = histogram(await metricsText(d), 'tlsd_handshake_duration_seconds', 'full');
  assert.equal(h0.count, 0);
  assert.equal(h0.sum, 0);
  assert.deepEqual(h0.buckets.map(([le]) => le), ['0.0005', '0.001', '0.0025', '0.005', '0.01', '0.025', '0.05',
    '0.1', '0.25', '0.5', '1', '+Inf']);
  const started = Date.now();
  for (let i = 0; i < 3; i++) {
    const s = await d.connect({ minVersion: 'TLSv1.3' });
    assert.equal((await echo(s, 'x')).toString(), 'x');
    s.end();
  }
  const ticket = await sessionFrom(d.port, TLS12);
  for (let i = 0; i < 2; i++) assert.ok(await resumedWith(d.port, ticket, TLS12), 'resumed');
  const elapsed = (Date.now() - started) / 1000;
  const s = await waitFor(async () => {
    const st = await stats(d);
    return st.handshakes.full === 4 && st.handshakes.resumed === 2 ? st : null;
  }, ms(5000), '4 full and 2 resumed handshakes counted');
  const text = await metricsText(d);
  const full = histogram(text, 'tlsd_handshake_duration_seconds', 'full');
  const resumed = histogram(text, 'tlsd_handshake_duration_seconds', 'resumed');
  assert.equal(full.count, s.handshakes.full);
  assert.equal(resumed.count, s.handshakes.resumed);
  assert.ok(full.sum > 0 && full.sum < elapsed, `full sum ${full.sum} s within the ${elapsed} s it took`);
  assert.ok(resumed.sum > 0 && resumed.sum < elapsed, `resumed sum ${resumed.sum} s`);
  t.diagnostic(`full: ${full.count} in ${full.sum.toFixed(6)} s; resumed: ${resumed.count} in ${resumed.sum.toFixed(6)} s`);
});

// ---------------------------------------------------------------- certificates

function certOf(file) {
  return new crypto.X509Certificate(fs.readFileSync(fixture(file)));
}

test('certificate expiry: every certificate in /metrics by hostname and fingerprint; expiresIn in /v1/contexts',
  async (t) => {
    const d = await startTlsd({ t, config: { ...ecCreds(), contexts: [{ hostname: 'a.example.com',
      key: fixture('sni-a-key.pem'), cert: fixture('sni-a-cert.pem') }] }, control: true, workers: 1 });
    const notAfter = (file) => Math.floor(Date.parse(certOf(file).validTo) / 1000);
    const m = samples(await metricsText(d), 'tlsd_certificate_not_after_seconds');
    assert.deepEqual(Object.fromEntries(m), {
      [`tlsd_certificate_not_after_seconds{hostname="*",fingerprint="${certOf('ec-cert.pem').fingerprint256}"}`]:
        notAfter('ec-cert.pem'),
      [`tlsd_certificate_not_after_seconds{hostname="a.example.com",fingerprint="${
        certOf('sni-a-cert.pem').fingerprint256}"}`]: notAfter('sni-a-cert.pem'),
    });
    const list = (await d.api('GET', '/v1/contexts')).json;
    const c = list.find((e) => e.hostname === 'a.example.com').certificates[0];
    const want = notAfter('sni-a-cert.pem') - Math.floor(Date.now() / 1000);
    assert.ok(Number.isInteger(c.expiresIn) && Math.abs(c.expiresIn - want) <= 2, `expiresIn ${c.expiresIn} ~ ${want}`);
  });

// --------------------------------------------------------------------- reload

test('reload: success and failure counted, the time of the last success', async (t) => {
  const cfg = writeConfig({ ...ecCreds() });
  const d = await startTlsd({ t, config: cfg, control: true, workers: 1 });
  const reloads = async () => {
    const text = await metricsText(d);
    return { ...Object.fromEntries(samples(text, 'tlsd_reload_total')),
      last: samples(text, 'tlsd_last_reload_success_timestamp_seconds').get('tlsd_last_reload_success_timestamp_seconds') };
  };
  assert.deepEqual(await reloads(),
    { 'tlsd_reload_total{result="success"}': 0, 'tlsd_reload_total{result="failure"}': 0, last: 0 });
  const first = await d.waitWorkers(1);
  const at = Math.floor(Date.now() / 1000);
  d.signal('SIGHUP');
  const ok = await waitFor(async () => {
    const r = await reloads();
    return r['tlsd_reload_total{result="success"}'] === 1 ? r : null;
  }, ms(5000), 'one successful reload');
  assert.ok(ok.last >= at && ok.last <= Math.ceil(Date.now() / 1000), `last success ${ok.last} ~ ${at}`);
  await waitFor(() => {
    const w = d.workerPids();
    return w.length === 1 && w[0] !== first[0];
  }, ms(5000), 'the old worker gone');
  fs.writeFileSync(cfg, '{ "cert": ');
  d.signal('SIGHUP');
  const bad = await waitFor(async () => {
    const r = await reloads();
    return r['tlsd_reload_total{result="failure"}'] === 1 ? r : null;
  }, ms(5000), 'one refused reload');
  assert.equal(bad['tlsd_reload_total{result="success"}'], 1);
  assert.equal(bad.last, ok.last, 'a refused reload leaves the last success');
});

// --------------------------------------------------------------------- health

async function healthz(d) {
  const r = await d.api('GET', '/healthz', { token: false });
  return { status: r.status, text: r.text.trimEnd() };
}

test('/healthz: 503 naming the worker within seconds of SIGSTOP, 200 again after SIGCONT', async (t) => {
  const d = await startTlsd({ t, args: ['--demo'], control: true, workers: 2 });
  const pids = await d.waitWorkers(2);
  await sleep(ms(1500));
  assert.deepEqual(await healthz(d), { status: 200, text: 'ok' });
  process.kill(pids[1], 'SIGSTOP');
  t.after(() => { try { process.kill(pids[1], 'SIGCONT'); } catch { /* gone */ } });
  const stopped = Date.now();
  const down = await waitFor(async () => {
    const h = await healthz(d);
    return h.status === 503 ? h : null;
  }, ms(8000), '/healthz 503 after SIGSTOP', 100);
  const after = Date.now() - stopped;
  assert.match(down.text, new RegExp(`^unhealthy: slot \\d+ \\(worker ${pids[1]}\\): no heartbeat for \\d+\\.\\d s$`));
  process.kill(pids[1], 'SIGCONT');
  const resumed = Date.now();
  await waitFor(async () => (await healthz(d)).status === 200, ms(3000), '/healthz 200 after SIGCONT', 100);
  t.diagnostic(`503 ${after} ms after SIGSTOP; 200 again ${Date.now() - resumed} ms after SIGCONT`);
  assert.deepEqual(await healthz(d), { status: 200, text: 'ok' });
});

test('/healthz: 503 while a killed worker\'s slot stays empty (fork failing)', async (t) => {
  const flag = path.join(tmpdir(), 'fork-fail');
  const d = await startTlsd({ t, args: ['--demo'], control: true, workers: 1, env: { TLSD_TEST_FORK_FAIL: flag } });
  const [pid] = await d.waitWorkers(1);
  assert.equal((await healthz(d)).status, 200);
  fs.writeFileSync(flag, '');
  process.kill(pid, 'SIGKILL');
  const h = await waitFor(async () => {
    const r = await healthz(d);
    return r.status === 503 ? r : null;
  }, ms(3000), '/healthz 503 with no worker', 50);
  assert.equal(h.text, 'unhealthy: slot 1: no worker running');
  fs.rmSync(flag);
  await waitFor(async () => (await healthz(d)).status === 200, ms(5000), '/healthz 200 once a worker runs again');
});

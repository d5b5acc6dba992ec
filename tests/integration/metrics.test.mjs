// metrics.test.mjs - GET /metrics (Prometheus text format 0.0.4: the format
// checked line by line here, and by promtool when it is installed; every value
// equal to /v1/stats after known traffic) and GET /v1/ciphers (the suites the
// priority enables, each one negotiated by a node client).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import tls from 'node:tls';
import {
  test, startTlsd, ecCreds, fixture, knownTraffic, waitFor, runTool, haveTool, ms,
} from './lib.mjs';

const TLS12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' };
const TLS13 = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' };
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

// ------------------------------------------------------------ the text format

const SAMPLE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*")*\})? -?[0-9.e+]+$/;
const COMMENT = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/;

// checkFormat(text): asserts the rules of the exposition format tlsd keeps
// (no summaries; a histogram's samples are its name + _bucket, _sum or
// _count, every other sample's name is its family's name);
// returns {samples: Map('name{labels}' -> number), types: Map(name -> type)}.
function checkFormat(text) {
  assert.ok(text.endsWith('\n'), 'the text ends with a newline');
  const families = new Map(); // name -> {help, type, samples}
  const samples = new Map();
  let current = null;
  const enter = (name, line) => {
    if (current === name) return families.get(name);
    assert.ok(!families.has(name), `family ${name} appears twice (at "${line}")`);
    const f = { help: 0, type: null, samples: 0 };
    families.set(name, f);
    current = name;
    return f;
  };
  for (const line of text.slice(0, -1).split('\n')) {
    const c = COMMENT.exec(line);
    if (c) {
      const f = enter(c[2], line);
      assert.equal(f.samples, 0, `${line}: HELP and TYPE come before the samples`);
      if (c[1] === 'HELP') {
        assert.equal(f.help++, 0, `${c[2]}: one HELP line`);
        assert.ok(c[3].length > 0, `${c[2]}: HELP has a text`);
      } else {
        assert.equal(f.type, null, `${c[2]}: one TYPE line`);
        assert.match(c[3], /^(counter|gauge|histogram)$/, line);
        f.type = c[3];
      }
      continue;
    }
    assert.match(line, SAMPLE, 'a sample line');
    const sampleName = /^[^{ ]+/.exec(line)[0];
    const base = sampleName.replace(/_(bucket|sum|count)$/, '');
    const name = families.get(base)?.type === 'histogram' ? base : sampleName;
    const f = enter(name, line);
    assert.equal(f.help, 1, `${name}: HELP before its samples`);
    assert.ok(f.type, `${name}: TYPE before its samples`);
    f.samples++;
    const key = line.slice(0, line.lastIndexOf(' '));
    assert.ok(!samples.has(key), `${key} appears once`);
    samples.set(key, Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  const types = new Map();
  for (const [name, f] of families) {
    assert.ok(name.startsWith('tlsd_'), `${name}: prefixed tlsd_`);
    assert.ok(f.samples > 0, `${name}: has samples`);
    assert.equal(name.endsWith('_total'), f.type === 'counter', `${name}: ends in _total iff a counter (${f.type})`);
    types.set(name, f.type);
  }
  return { samples, types };
}

// promtool(text): `promtool check metrics` on the text (skipped when absent).
function promtoolCheck(text) {
  if (!haveTool('promtool')) return;
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, `promtool check metrics:\n${r.stdout}${r.stderr}`);
}

async function contentType(d, urlPath) {
  const r = await runTool('curl', ['-sS', '-o', '/dev/null', '-w', '%{content_type}', '-H',
    `Authorization: Bearer ${d.token()}`, `http://${d.control}${urlPath}`], { timeout: ms(10000) });
  return r.stdout;
}

async function metrics(d) {
  const r = await d.api('GET', '/metrics');
  assert.equal(r.status, 200, r.text);
  promtoolCheck(r.text);
  return checkFormat(r.text);
}

// assertMatchesStats(samples, stats, maxConnections): every /metrics value is
// the /v1/stats one (uptime within a second: two reads).
function assertMatchesStats(m, s, maxConnections) {
  const expect = {
    tlsd_connections_current: s.connections.current,
    tlsd_connections_total: s.connections.total,
    tlsd_connections_rejected_total: s.connections.rejected,
    tlsd_accept_paused_total: s.connections.accept_paused,
    tlsd_bytes_received_total: s.bytes.in,
    tlsd_bytes_sent_total: s.bytes.out,
    tlsd_session_cache_entries: s.session_cache.entries,
    tlsd_session_cache_capacity: s.session_cache.capacity,
    tlsd_session_cache_hits_total: s.session_cache.hits,
    tlsd_session_cache_misses_total: s.session_cache.misses,
    tlsd_session_cache_evictions_total: s.session_cache.evictions,
    tlsd_ticket_keys_generation: s.ticket_keys.generation,
    tlsd_ticket_key_not_found_total: s.ticket_keys.not_found,
    tlsd_session_store_writes_total: s.session_store.writes,
    'tlsd_ticket_resumptions_total{key="active"}': s.ticket_keys.resumed.active,
    'tlsd_ticket_resumptions_total{key="next"}': s.ticket_keys.resumed.next,
    'tlsd_ticket_resumptions_total{key="decrypt-only"}': s.ticket_keys.resumed.decrypt_only,
    tlsd_max_connections: maxConnections,
    'tlsd_renegotiations_total{result="accepted"}': s.renegotiations.accepted,
    'tlsd_renegotiations_total{result="refused"}': s.renegotiations.refused,
  };
  for (const r of ['full', 'resumed_session_id', 'resumed_ticket', 'failed', 'timeout']) {
    expect[`tlsd_handshakes_total{result="${r}"}`] = s.handshakes[r];
  }
  for (const [label, key] of [['hit', 'hits'], ['miss', 'misses'], ['refused', 'refused'], ['error', 'errors'],
    ['timeout', 'timeouts'], ['unavailable', 'unavailable']]) {
    expect[`tlsd_session_store_lookups_total{result="${label}"}`] = s.session_store[key];
  }
  for (const k of ['full', 'resumed']) expect[`tlsd_backend_tls_handshakes_total{kind="${k}"}`] = s.backend.tls[k];
  for (const r of ['expired', 'unknown_ca', 'name_mismatch', 'bad_certificate', 'handshake']) {
    expect[`tlsd_backend_tls_failures_total{reason="${r}"}`] = s.backend.tls.failures[r];
  }
  for (const [r, n] of Object.entries(s.backend.connect_failures)) {
    expect[`tlsd_backend_connect_failures_total{reason="${r}"}`] = n;
  }
  expect.tlsd_backend_connect_duration_seconds_count = s.backend.connects;
  if (s.backend.reachable !== null) expect.tlsd_backend_up = s.backend.reachable ? 1 : 0;
  for (const v of ['TLSv1.2', 'TLSv1.3']) {
    expect[`tlsd_handshakes_by_version_total{version="${v}"}`] = s.handshakes.by_version[v];
  }
  s.workers.forEach((w, i) => {
    expect[`tlsd_worker_up{slot="${i + 1}"}`] = w.pid > 0 ? 1 : 0;
    expect[`tlsd_worker_connections_current{slot="${i + 1}"}`] = w.connections;
    expect[`tlsd_worker_connections_total{slot="${i + 1}"}`] = w.accepted;
    expect[`tlsd_worker_restarts_total{slot="${i + 1}"}`] = w.restarts;
    for (const [cause, n] of Object.entries(w.exits)) expect[`tlsd_worker_exits_total{slot="${i + 1}",cause="${cause}"}`] = n;
  });
  assert.deepEqual(Object.keys(s.lock_recoveries), ['connection_limit', 'session_cache', 'connection_list']);
  for (const [k, n] of Object.entries(s.lock_recoveries)) expect[`tlsd_lock_recoveries_total{structure="${k}"}`] = n;
  for (const [r, n] of Object.entries(s.handshakes.failures)) expect[`tlsd_handshake_failures_total{reason="${r}"}`] = n;
  for (const c of s.contexts) {
    const h = `hostname="${c.hostname}"`;
    for (const r of ['full', 'resumed_session_id', 'resumed_ticket', 'failed', 'timeout']) {
      expect[`tlsd_sni_handshakes_total{${h},result="${r}"}`] = c.handshakes[r];
    }
    expect[`tlsd_sni_bytes_received_total{${h}}`] = c.bytes.in;
    expect[`tlsd_sni_bytes_sent_total{${h}}`] = c.bytes.out;
    expect[`tlsd_sni_connections_current{${h}}`] = c.connections.current;
  }
  expect['tlsd_handshake_duration_seconds_count{kind="full"}'] = s.handshakes.full;
  expect['tlsd_handshake_duration_seconds_count{kind="resumed"}'] = s.handshakes.resumed;
  // Buckets and sums, certificates and reloads: observability.test.mjs.
  const elsewhere = /^tlsd_(uptime_seconds|(handshake|backend_connect)_duration_seconds_(bucket|sum)|certificate_not_after_seconds|reload_total|last_reload_success)/;
  const got = Object.fromEntries([...m.samples].filter(([k]) => !elsewhere.test(k)));
  assert.deepEqual(got, expect);
  assert.ok(Math.abs(m.samples.get('tlsd_uptime_seconds') - s.uptime_s) <= 1, 'uptime');
}

const get = (m, key) => m.samples.get(key);

// ------------------------------------------------------------------ /metrics

test('GET /metrics and GET /v1/ciphers need the token', async (t) => {
  const d = await startTlsd({ t, args: ['--demo'], control: true, workers: 1 });
  for (const p of ['/metrics', '/v1/ciphers']) {
    for (const token of [false, 'x'.repeat(64)]) {
      const r = await d.api('GET', p, { token });
      assert.equal(r.status, 401, `${p} ${token}`);
      assert.equal(r.json?.error?.code, 'unauthorized');
    }
    assert.equal((await d.api('POST', p)).status, 405);
  }
  assert.equal(await contentType(d, '/metrics'), CONTENT_TYPE);
  assert.equal(await contentType(d, '/v1/ciphers'), 'application/json');
});

test('/metrics: valid exposition text, equal to /v1/stats after known traffic, exact counts', async (t) => {
  const d = await startTlsd({ t, config: { ...ecCreds(), handshakeTimeout: 400 }, control: true, workers: 2 });
  await d.waitWorkers(2);
  const m0 = await metrics(d);
  assertMatchesStats(m0, (await d.api('GET', '/v1/stats')).json, 0);
  assert.equal(get(m0, 'tlsd_worker_up{slot="1"}'), 1);
  assert.equal(get(m0, 'tlsd_worker_up{slot="2"}'), 1);
  assert.equal(m0.types.get('tlsd_connections_current'), 'gauge');
  assert.equal(m0.types.get('tlsd_handshakes_total'), 'counter');

  await knownTraffic(d, 2);
  assert.equal((await d.api('PUT', '/v1/max-connections', { body: { maxConnections: 50 } })).status, 200);
  assert.equal((await d.api('POST', '/v1/ticket-keys/rotate')).status, 200);

  const stats = (await d.api('GET', '/v1/stats')).json;
  const m = await metrics(d);
  assertMatchesStats(m, stats, 50);
  const delta = (key) => get(m, key) - get(m0, key);
  assert.deepEqual({
    full: delta('tlsd_handshakes_total{result="full"}'),
    resumed_ticket: delta('tlsd_handshakes_total{result="resumed_ticket"}'),
    resumed_session_id: delta('tlsd_handshakes_total{result="resumed_session_id"}'),
    failed: delta('tlsd_handshakes_total{result="failed"}'),
    timeout: delta('tlsd_handshakes_total{result="timeout"}'),
    tls12: delta('tlsd_handshakes_by_version_total{version="TLSv1.2"}'),
    tls13: delta('tlsd_handshakes_by_version_total{version="TLSv1.3"}'),
    connections: delta('tlsd_connections_total'),
    workers: delta('tlsd_worker_connections_total{slot="1"}') + delta('tlsd_worker_connections_total{slot="2"}'),
    in: delta('tlsd_bytes_received_total'),
    out: delta('tlsd_bytes_sent_total'),
    hits: delta('tlsd_session_cache_hits_total'),
    generation: delta('tlsd_ticket_keys_generation'),
  }, {
    full: 5, resumed_ticket: 4, resumed_session_id: 2, failed: 1, timeout: 1, tls12: 8, tls13: 3,
    connections: 13, workers: 13, in: 15, out: 15, hits: 2, generation: 1,
  });
  assert.deepEqual(stats.handshakes.by_version, { 'TLSv1.2': 8, 'TLSv1.3': 3 });
  // No contexts: the clients' "localhost" is a name no context has.
  assert.deepEqual(stats.contexts.map((c) => c.hostname), ['*', 'other']);
  assert.equal(delta('tlsd_sni_handshakes_total{hostname="other",result="full"}'), 5);
  assert.equal(delta('tlsd_sni_bytes_received_total{hostname="other"}'), 15);
  assert.equal(get(m, 'tlsd_connections_current'), 0);
  assert.equal(get(m, 'tlsd_max_connections'), 50);
});

test('/metrics: a killed worker shows as a restart of its slot', async (t) => {
  const d = await startTlsd({ t, args: ['--demo'], control: true, workers: 2 });
  const pids = await d.waitWorkers(2);
  process.kill(pids[0], 'SIGKILL');
  const stats = await waitFor(async () => {
    const s = (await d.api('GET', '/v1/stats')).json;
    return s.workers.every((w) => w.pid > 0 && w.pid !== pids[0]) ? s : null;
  }, ms(5000), 'a replacement worker');
  const m = await metrics(d);
  assertMatchesStats(m, stats, 0);
  const restarts = [1, 2].map((n) => get(m, `tlsd_worker_restarts_total{slot="${n}"}`));
  assert.deepEqual(restarts.sort(), [0, 1]);
  assert.equal(get(m, 'tlsd_worker_up{slot="1"}') + get(m, 'tlsd_worker_up{slot="2"}'), 2);
});

test('/metrics: worker exits by cause: a SIGKILL is "signal", an exit nobody asked for is "clean"', async (t) => {
  const d = await startTlsd({ t, args: ['--demo'], control: true, workers: 2 });
  const pids = await d.waitWorkers(2);
  const slotOf = async (pid) => (await d.api('GET', '/v1/stats')).json.workers.findIndex((w) => w.pid === pid) + 1;
  const killed = await slotOf(pids[0]);
  const stopped = await slotOf(pids[1]);
  assert.deepEqual([killed, stopped].sort(), [1, 2]);
  const m0 = await metrics(d);
  for (const slot of [1, 2]) {
    for (const cause of ['signal', 'exit', 'config', 'clean']) {
      assert.equal(get(m0, `tlsd_worker_exits_total{slot="${slot}",cause="${cause}"}`), 0, `${slot} ${cause}`);
    }
  }
  assert.equal(m0.types.get('tlsd_worker_exits_total'), 'counter');
  process.kill(pids[0], 'SIGKILL');
  process.kill(pids[1], 'SIGTERM'); // a worker drains and exits 0 on SIGTERM
  const stats = await waitFor(async () => {
    const s = (await d.api('GET', '/v1/stats')).json;
    return s.workers.every((w) => w.pid > 0 && !pids.includes(w.pid)) ? s : null;
  }, ms(10000), 'two replacement workers');
  const m = await metrics(d);
  assertMatchesStats(m, stats, 0);
  assert.deepEqual(stats.workers[killed - 1].exits, { signal: 1, exit: 0, config: 0, clean: 0 });
  assert.deepEqual(stats.workers[stopped - 1].exits, { signal: 0, exit: 0, config: 0, clean: 1 });
  assert.equal(get(m, `tlsd_worker_exits_total{slot="${killed}",cause="signal"}`), 1);
  assert.equal(get(m, `tlsd_worker_exits_total{slot="${stopped}",cause="clean"}`), 1);
});

// --------------------------------------------------------------- /v1/ciphers

// Every suite name the client side knows: OpenSSL's whole list when the
// openssl tool is here (node's tls.getCiphers() leaves out CCM suites),
// TLS 1.3 ones included; lowercase, as /v1/ciphers names them.
const TLS13_SUITES = 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:' +
  'TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256';
function clientSuites() {
  const r = haveTool('openssl')
    ? spawnSync('openssl', ['ciphers', '-ciphersuites', TLS13_SUITES, 'ALL:@SECLEVEL=0'], { encoding: 'utf8' })
    : { status: 1 };
  const names = r.status === 0 ? r.stdout.trim().split(':') : tls.getCiphers();
  return [...new Set(names.map((n) => n.toLowerCase()))];
}

// offer(d, name): the node client offers only suite <name> (TLS 1.3 only for
// TLS 1.3 suites, TLS 1.2 only for the others); resolves with null when it
// got exactly that suite, else with why not.
async function offer(d, name) {
  const v13 = name.startsWith('tls_');
  let s;
  try {
    // @SECLEVEL=0 lets the client offer what OpenSSL's level 1 refuses; it is
    // a TLS 1.2 token (alone with a TLS 1.3 name it matches nothing).
    s = await d.connect({ ciphers: v13 ? name.toUpperCase() : `${name.toUpperCase()}:@SECLEVEL=0`,
      ...(v13 ? TLS13 : TLS12) });
  } catch (e) {
    return `${e.code} ${e.message}`;
  }
  const got = s.getCipher().name.toLowerCase();
  s.destroy();
  return got === name ? null : `negotiated ${got}`;
}

// assertNegotiable(d, list): /v1/ciphers is exactly what a client can get:
// every listed suite negotiates, every other suite the client knows fails.
async function assertNegotiable(d, list) {
  for (const n of list) assert.equal(await offer(d, n), null, `listed ${n} negotiates`);
  for (const n of clientSuites().filter((c) => !list.includes(c))) {
    assert.notEqual(await offer(d, n), null, `unlisted ${n} is refused`);
  }
}

test('/v1/ciphers: one TLS 1.2 suite configured, TLS 1.3 off: exactly that suite', async (t) => {
  const d = await startTlsd({ t, config: { ...ecCreds(), ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256',
    maxVersion: 'TLSv1.2' }, control: true, workers: 1 });
  const r = await d.api('GET', '/v1/ciphers');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, ['ecdhe-ecdsa-aes128-gcm-sha256']);
  await assertNegotiable(d, r.json);
  assert.deepEqual((await d.api('GET', '/v1/ciphers')).json, r.json, 'the same list again');
});

// GnuTLS enables every kx x cipher x MAC combination of its priority; the
// TLS 1.3 suites bring AES-256-GCM and CHACHA20-POLY1305, so TLS 1.2 gets
// ECDHE-ECDSA with those too (common/ciphers.c tolerates such suites). The
// list says so, because a client can negotiate them.
test('/v1/ciphers: one TLS 1.2 suite configured, TLS 1.3 on: TLS 1.3 suites first, all negotiable',
  async (t) => {
    const d = await startTlsd({ t, config: { ...ecCreds(), ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' },
      control: true, workers: 1 });
    const list = (await d.api('GET', '/v1/ciphers')).json;
    // Node keeps OpenSSL's default TLS 1.3 suites when the string names none.
    assert.deepEqual(list.slice(0, 3), ['tls_aes_256_gcm_sha384', 'tls_chacha20_poly1305_sha256',
      'tls_aes_128_gcm_sha256']);
    const v12 = list.slice(3);
    assert.ok(v12.every((n) => n.startsWith('ecdhe-ecdsa-')), `${v12}`);
    assert.ok(v12.includes('ecdhe-ecdsa-aes128-gcm-sha256'), `${v12}`);
    await assertNegotiable(d, list);
  });

test('/v1/ciphers: the default priority, RSA + ECDSA + DH: exactly the negotiable suites', async (t) => {
  const d = await startTlsd({ t, config: {
    key: [fixture('rsa-key.pem'), fixture('ec-key.pem')], cert: [fixture('rsa-cert.pem'), fixture('ec-cert.pem')],
    dhparam: fixture('dh2048.pem'),
  }, control: true, workers: 1 });
  const list = (await d.api('GET', '/v1/ciphers')).json;
  assert.equal(new Set(list).size, list.length, 'no duplicates');
  assert.deepEqual(list.slice(0, 3), ['tls_aes_256_gcm_sha384', 'tls_chacha20_poly1305_sha256',
    'tls_aes_128_gcm_sha256'], 'the server\'s preference: TLS 1.3 first, as configured');
  for (const n of list) assert.match(n, /^[a-z0-9_-]+$/, 'lowercase');
  for (const n of ['ecdhe-ecdsa-aes128-gcm-sha256', 'ecdhe-rsa-aes256-gcm-sha384', 'dhe-rsa-aes128-gcm-sha256']) {
    assert.ok(list.includes(n), n);
  }
  assert.ok(!list.some((n) => /rc4|des-cbc3|null|ccm8|ccm_8|camellia/.test(n)), 'never-enabled suites are absent');
  await assertNegotiable(d, list);
});

// backend.test.mjs - backend mode: PROXY v1/v2 headers, half-close in both
// directions, and a backend that refuses or vanishes.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  test, closeOf, startTlsd, rsaCreds, listenTcp, closedPort, readBytes, readUntilEnd, sha256, waitFor, withTimeout, ms,
} from './lib.mjs';

const SIG = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1');

// parseTlvs(buf): [{type, value}]
function parseTlvs(buf) {
  const out = [];
  let i = 0;
  while (i < buf.length) {
    assert.ok(i + 3 <= buf.length, 'TLV header fits');
    const type = buf[i];
    const len = buf.readUInt16BE(i + 1);
    assert.ok(i + 3 + len <= buf.length, `TLV 0x${type.toString(16)} of ${len} bytes fits`);
    out.push({ type, value: buf.subarray(i + 3, i + 3 + len) });
    i += 3 + len;
  }
  return out;
}

// parseProxyV2(buf): the decoded header, or null if buf is still too short.
function parseProxyV2(buf) {
  if (buf.length < 16) return null;
  assert.deepEqual(buf.subarray(0, 12), SIG, 'PROXY v2 signature');
  const len = buf.readUInt16BE(14);
  if (buf.length < 16 + len) return null;
  const h = { verCmd: buf[12], fam: buf[13], len, total: 16 + len };
  const body = buf.subarray(16, 16 + len);
  if (h.fam === 0x11) {
    h.src = [...body.subarray(0, 4)].join('.');
    h.dst = [...body.subarray(4, 8)].join('.');
    h.srcPort = body.readUInt16BE(8);
    h.dstPort = body.readUInt16BE(10);
    h.tlvs = parseTlvs(body.subarray(12));
  } else {
    h.tlvs = [];
  }
  return h;
}

// A backend that reads the PROXY v2 header (or v1 line) then hands the
// socket and any bytes after the header to onStream.
function proxyBackend(version, onStream) {
  return listenTcp((sock) => {
    let buf = Buffer.alloc(0);
    const onData = (c) => {
      buf = Buffer.concat([buf, c]);
      let header;
      let rest;
      if (version === 2) {
        header = parseProxyV2(buf);
        if (!header) return;
        rest = buf.subarray(header.total);
      } else {
        const i = buf.indexOf('\r\n');
        if (i < 0) return;
        header = buf.subarray(0, i).toString('latin1');
        rest = buf.subarray(i + 2);
      }
      sock.removeListener('data', onData);
      sock.pause();
      if (rest.length) sock.unshift(rest);
      onStream(sock, header);
    };
    sock.on('data', onData);
  }, { allowHalfOpen: true });
}

function plainBackend(onStream) {
  return listenTcp(onStream, { allowHalfOpen: true });
}


test('PROXY v2: addresses, ALPN, authority and SSL TLVs', async (t) => {
  let resolveHeader;
  const gotHeader = new Promise((r) => (resolveHeader = r));
  const be = await proxyBackend(2, (sock, header) => {
    resolveHeader(header);
    sock.on('data', (c) => sock.write(Buffer.concat([Buffer.from('be:'), c])));
    sock.on('end', () => sock.end());
    sock.resume();
  });
  t.after(() => be.close());
  const d = await startTlsd({
    t,
    config: { ...rsaCreds(), ALPNProtocols: ['h2', 'http/1.1'] },
    args: ['--backend', `127.0.0.1:${be.port}`, '--proxy-protocol', 'v2'],
    workers: 1,
  });
  const s = await d.connect({ ALPNProtocols: ['h2'], servername: 'localhost' });
  s.write('hello');
  const h = await withTimeout(gotHeader, ms(3000), 'the PROXY v2 header');
  assert.equal(h.verCmd, 0x21, 'version 2, command PROXY');
  assert.equal(h.fam, 0x11, 'TCP over IPv4');
  assert.equal(h.src, '127.0.0.1');
  assert.equal(h.srcPort, s.localPort, 'source port is the client socket\'s port');
  assert.equal(h.dst, '127.0.0.1');
  assert.equal(h.dstPort, d.port, 'destination port is the listener');
  const tlv = (type) => h.tlvs.find((x) => x.type === type);
  assert.equal(tlv(0x01)?.value.toString(), 'h2', 'PP2_TYPE_ALPN');
  assert.equal(tlv(0x02)?.value.toString(), 'localhost', 'PP2_TYPE_AUTHORITY = SNI');
  const ssl = tlv(0x20);
  assert.ok(ssl, 'PP2_TYPE_SSL present');
  assert.ok(ssl.value.length >= 5);
  assert.equal(ssl.value[0] & 0x01, 0x01, 'PP2_CLIENT_SSL bit');
  const verify = ssl.value.readUInt32BE(1);
  assert.equal(typeof verify, 'number');
  const sub = parseTlvs(ssl.value.subarray(5));
  const version = sub.find((x) => x.type === 0x21)?.value.toString();
  const cipher = sub.find((x) => x.type === 0x23)?.value.toString();
  assert.equal(version, s.getProtocol(), 'PP2_SUBTYPE_SSL_VERSION');
  const c = s.getCipher();
  assert.ok(cipher === c.name || cipher === c.standardName, `PP2_SUBTYPE_SSL_CIPHER ${cipher} vs ${c.name}`);
  // Data flows after the header, both ways.
  assert.equal((await readBytes(s, 8)).toString(), 'be:hello');
  s.end();
  await d.waitForLog(closeOf(s));
});

test('PROXY v2 over TLS 1.2 names the TLS 1.2 cipher', async (t) => {
  let resolveHeader;
  const gotHeader = new Promise((r) => (resolveHeader = r));
  const be = await proxyBackend(2, (sock, header) => {
    resolveHeader(header);
    sock.resume();
  });
  t.after(() => be.close());
  const d = await startTlsd({
    t, config: rsaCreds(), args: ['--backend', `127.0.0.1:${be.port}`, '--proxy-protocol', 'v2'], workers: 1,
  });
  const s = await d.connect({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' });
  s.write('x');
  const h = await withTimeout(gotHeader, ms(3000), 'the PROXY v2 header');
  const ssl = h.tlvs.find((x) => x.type === 0x20);
  const sub = parseTlvs(ssl.value.subarray(5));
  assert.equal(sub.find((x) => x.type === 0x21)?.value.toString(), 'TLSv1.2');
  const cipher = sub.find((x) => x.type === 0x23)?.value.toString();
  assert.ok(['ECDHE-RSA-AES256-GCM-SHA384', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384'].includes(cipher), cipher);
  assert.equal(h.tlvs.find((x) => x.type === 0x01), undefined, 'no ALPN TLV when none was negotiated');
  s.destroy();
});

test('PROXY v1: one text line with the client address', async (t) => {
  let resolveHeader;
  const gotHeader = new Promise((r) => (resolveHeader = r));
  const be = await proxyBackend(1, (sock, header) => {
    resolveHeader(header);
    sock.pipe(sock);
  });
  t.after(() => be.close());
  const d = await startTlsd({
    t, config: rsaCreds(), args: ['--backend', `127.0.0.1:${be.port}`, '--proxy-protocol', 'v1'], workers: 1,
  });
  const s = await d.connect();
  s.write('ping');
  assert.equal(await withTimeout(gotHeader, ms(3000), 'the PROXY v1 line'), `PROXY TCP4 127.0.0.1 127.0.0.1 ${s.localPort} ${d.port}`);
  assert.equal((await readBytes(s, 4)).toString(), 'ping');
  s.destroy();
});

test('backend mode carries 1 MiB each way intact, no PROXY header when off', async (t) => {
  const be = await plainBackend((sock) => sock.pipe(sock));
  t.after(() => be.close());
  const d = await startTlsd({ t, config: rsaCreds(), args: ['--backend', `127.0.0.1:${be.port}`], workers: 1 });
  const s = await d.connect();
  const data = crypto.randomBytes(1 << 20);
  const p = readBytes(s, data.length, ms(5000));
  s.write(data);
  const got = await p;
  assert.equal(sha256(got), sha256(data), 'the backend echoed exactly what the client sent (no header)');
  s.end();
  const rec = await d.waitForLog(closeOf(s));
  assert.equal(rec.bytesIn, 1 << 20);
  assert.equal(rec.bytesOut, 1 << 20);
});

test('half-close: client ends first, backend sees end, then still answers', async (t) => {
  const events = [];
  const be = await plainBackend((sock) => {
    const chunks = [];
    sock.on('data', (c) => chunks.push(c));
    sock.on('end', () => {
      events.push(`backend-end:${Buffer.concat(chunks)}`);
      // The client's write side is closed; ours is still open.
      sock.write('late reply');
      sock.end();
    });
  });
  t.after(() => be.close());
  const d = await startTlsd({ t, config: rsaCreds(), args: ['--backend', `127.0.0.1:${be.port}`], workers: 1 });
  const s = await d.connect();
  s.end('request body');
  const r = await readUntilEnd(s, ms(3000));
  assert.deepEqual(events, ['backend-end:request body'], 'backend got all data, then end');
  assert.equal(r.data.toString(), 'late reply', 'reply after our end still arrives');
  assert.equal(r.ended, true, 'then an orderly end');
  const rec = await d.waitForLog(closeOf(s));
  assert.equal(rec.closeReason, 'client-close');
});

test('half-close: backend ends first, client sees data then end', async (t) => {
  let backendSawEnd = false;
  const be = await plainBackend((sock) => {
    sock.on('end', () => {
      backendSawEnd = true;
    });
    sock.resume();
    sock.end('goodbye');
  });
  t.after(() => be.close());
  const d = await startTlsd({ t, config: rsaCreds(), args: ['--backend', `127.0.0.1:${be.port}`], workers: 1 });
  const s = await d.connect();
  const order = [];
  s.on('data', (c) => order.push(`data:${c}`));
  s.on('end', () => order.push('end'));
  await new Promise((resolve, reject) => {
    s.once('close', resolve);
    setTimeout(() => reject(new Error(`no close; events ${order}`)), ms(3000));
  });
  assert.deepEqual(order, ['data:goodbye', 'end']);
  const rec = await d.waitForLog(closeOf(s));
  assert.equal(rec.closeReason, 'backend-close');
  await waitFor(() => backendSawEnd, ms(2000), 'the backend to see the client side end too');
});

test('backend refuses: client connection closed, logged backend-connect-failed', async (t) => {
  const port = await closedPort();
  const d = await startTlsd({ t, config: rsaCreds(), args: ['--backend', `127.0.0.1:${port}`], workers: 1 });
  let s;
  try {
    s = await d.connect();
  } catch (e) {
    // tlsd may dial the backend before finishing the handshake.
    assert.match(`${e.code} ${e.message}`, /CLOSED_BEFORE_HANDSHAKE|ECONNRESET|disconnected|ALERT/i);
  }
  if (s) {
    s.write('anyone?');
    const r = await readUntilEnd(s, ms(3000));
    assert.equal(r.data.length, 0);
  }
  const rec = await d.waitForLog((x) => x.event === 'close' && x.closeReason === 'backend-connect-failed');
  assert.equal(rec.bytesOut, 0);
  // tlsd keeps running.
  assert.equal(d.exited, null);
});

test('backend resets mid-stream: client connection closed, tlsd keeps serving', async (t) => {
  let first = true;
  const be = await plainBackend((sock) => {
    if (first) {
      first = false;
      sock.once('data', () => sock.resetAndDestroy());
    } else {
      sock.pipe(sock);
    }
  });
  t.after(() => be.close());
  const d = await startTlsd({ t, config: rsaCreds(), args: ['--backend', `127.0.0.1:${be.port}`], workers: 1 });
  const s = await d.connect();
  s.write('boom');
  const r = await readUntilEnd(s, ms(3000));
  assert.equal(r.data.length, 0);
  await d.waitForLog(closeOf(s));
  const s2 = await d.connect();
  s2.write('again');
  assert.equal((await readBytes(s2, 5)).toString(), 'again');
  s2.destroy();
});

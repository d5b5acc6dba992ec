// ocsp.test.mjs - "ocsp": a DER OCSP response stapled in the handshake.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTlsd, expectStartFailure, ecCreds, fixture, runTool } from './lib.mjs';

async function statusOf(port, extra = []) {
  const r = await runTool('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost',
    '-status', ...extra], { input: '' });
  return r.stdout;
}

test('ocsp: the response is stapled when the client asks (TLS 1.3 and 1.2)', async (t) => {
  const d = await startTlsd({ t, config: { ...ecCreds(), ocsp: fixture('ec-ocsp.der') }, workers: 1 });
  for (const version of ['-tls1_3', '-tls1_2']) {
    const out = await statusOf(d.port, [version]);
    assert.match(out, /OCSP Response Status: successful/, `${version}: ${out.slice(0, 400)}`);
    assert.match(out, /Cert Status: good/, version);
  }
});

test('ocsp: without the key no response is sent (control)', async (t) => {
  const d = await startTlsd({ t, config: ecCreds(), workers: 1 });
  const out = await statusOf(d.port);
  assert.match(out, /OCSP response: no response sent/);
});

test('ocsp: a file that is not an OCSP response stops the start naming the key', async () => {
  const r = await expectStartFailure([], { config: { ...ecCreds(), ocsp: fixture('ec-cert.pem') } });
  assert.match(r.stderr, /ocsp/);
});

// logrotate.test.mjs - SIGUSR1 reopens the access log (after logrotate has
// moved it away), in the master and in every worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startTlsd, ecCreds, tmpdir, echo, waitFor, ms } from './lib.mjs';

function closeLines(file) {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('"event":"close"'));
}

async function oneConnection(d) {
  const s = await d.connect();
  await echo(s, 'x');
  s.end();
}

test('SIGUSR1 reopens accessLog: new lines go to the new file, none are lost', async (t) => {
  const dir = tmpdir();
  const log = path.join(dir, 'access.log');
  const d = await startTlsd({ t, config: { ...ecCreds(), accessLog: log }, workers: 2 });
  await oneConnection(d);
  await waitFor(() => closeLines(log).length === 1, ms(3000), 'first close line');
  fs.renameSync(log, `${log}.1`);
  d.signal('SIGUSR1');
  await waitFor(() => fs.existsSync(log), ms(3000), 'the master to reopen the file');
  // Each worker reopens on its own; give the signal to all of them time.
  await new Promise((r) => setTimeout(r, ms(200)));
  for (let i = 0; i < 6; i++) await oneConnection(d);
  await waitFor(() => closeLines(log).length === 6, ms(3000), 'six close lines in the new file');
  assert.equal(closeLines(`${log}.1`).length, 1, 'the rotated file keeps only the line before the rotation');
  assert.deepEqual(d.workerPids().length, 2, 'SIGUSR1 killed no worker');
});

// Independent check for issue 19: starts `rlhf-lab serve` (loopback, then --lan with an invite;
// LAN callers are simulated with Host headers, all traffic goes to 127.0.0.1) and sends it a fixed,
// bounded list of malformed WebSocket upgrades, cookies, headers, paths and API requests over raw
// sockets. After every 25 requests it checks that the server still answers app.info; at the end
// that the process is alive and never answered 500. Prints the counts as JSON; exit 1 on failure.
// Run: npx tsx scripts/check-serve-robustness.ts
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = join(import.meta.dirname, '..', 'bin', 'rlhf-lab.js');

/** Sends raw bytes to 127.0.0.1:port; resolves with the status code of the answer (0: closed without one, -1: timed out). */
function exchange(port: number, bytes: string | Buffer): Promise<number> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let got = '';
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      sock.destroy();
      resolve(code);
    };
    sock.on('data', (d) => {
      got += d.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(got);
      if (m) finish(Number(m[1]));
    });
    sock.on('error', () => finish(0));
    sock.on('close', () => finish(0));
    setTimeout(() => finish(-1), 3000).unref();
    sock.write(bytes);
  });
}

const upgradePaths = [
  '//', '///', '//events', '//events//', '/events/', '/events?', '/events?token', '/events?token=', '/events?token=%', '/events?token=%E0%A4%A',
  '/events#x', '/%2F%2F', '/%2e%2e/events', '/../events', '/events/../events', '//x:y@host/events', '//[::1]/events', '/\\\\x', '*', '',
  'http://127.0.0.1/events', 'http://[', 'ws://evil/events', '/events?' + 'a=1&'.repeat(2000), '/' + 'e'.repeat(9000), '/%00', '/%', '/%zz', '/\u00e9v\u00e9nts', '/events;x',
];
const cookies = [
  'rlhf_token=%E0%A4%A', 'rlhf_token=%', 'rlhf_token=%zz', 'rlhf_token=%C0%80', 'rlhf_token=%ED%A0%80', 'rlhf_token', 'rlhf_token==', '=;=;=', ';;;;', 'rlhf_token="%"',
  'a=%;rlhf_token=%E0', 'rlhf_token=' + '%'.repeat(5000), '\u00ff=\u00ff', 'rlhf_token=x; rlhf_token=%',
];
const hosts = (port: number) => [`127.0.0.1:${port}`, `192.0.2.10:${port}`, '', 'evil.example', '[::1', ':::', '[', `localhost:${port}`, 'x'.repeat(3000), '127.0.0.1:99999'];
const origins = (port: number) => [`http://127.0.0.1:${port}`, 'null', 'http://[', 'javascript:alert(1)', '', `http://192.0.2.10:${port}`, 'http://evil.example'];
const apiBodies = ['', '{', '[]', 'null', '1e999', '{"a":' + '['.repeat(5000) + ']'.repeat(5000) + '}', '{"__proto__":{"x":1}}', '{"name":"\\ud800"}', '{"path":"/proc/nope/x.rlhf"}', '\u0000\u00ff', '{"id":1e999}', '{"taskId":-1}'];
const apiNames = ['app.info', 'project.create', 'project.open', 'label.submit', 'label.importBundle', 'data.importText', 'compare.vote', 'nope', '', '%E0%A4%A', '../../etc/passwd', 'constructor', '__proto__', 'toString', 'app.info/../x'];

function upgrade(path: string, headers: Record<string, string>): string {
  const lines = [`GET ${path} HTTP/1.1`, 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return lines.join('\r\n') + '\r\n\r\n';
}

function httpRequest(method: string, path: string, headers: Record<string, string>, body = ''): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Connection: close'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (body && !('Content-Length' in headers)) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return lines.join('\r\n') + '\r\n\r\n' + body;
}

async function attack(port: number, token: string | null, child: ChildProcess) {
  const counts = { sent: 0, byStatus: {} as Record<string, number>, healthChecks: 0, healthFailures: 0 };
  const cases: string[] = [];
  for (const path of upgradePaths) for (const host of hosts(port).slice(0, 4)) cases.push(upgrade(path, { Host: host, Origin: `http://${host}` }));
  for (const cookie of cookies) for (const host of hosts(port).slice(0, 2)) {
    cases.push(upgrade('/events', { Host: host, Origin: `http://${host}`, Cookie: cookie }));
    cases.push(httpRequest('POST', '/api/app.info', { Host: host, Cookie: cookie, 'Content-Type': 'application/json' }, '{}'));
    cases.push(httpRequest('GET', '/', { Host: host, Cookie: cookie }));
  }
  for (const host of hosts(port)) for (const origin of origins(port)) {
    cases.push(upgrade('/events' + (token ? `?token=${token}` : ''), { Host: host, Origin: origin }));
    cases.push(httpRequest('POST', '/api/app.info', { Host: host, Origin: origin, 'Content-Type': 'application/json' }, '{}'));
  }
  for (const auth of ['Bearer', 'Bearer ', 'Bearer %', 'Basic Zm9vOmJhcg==', 'Bearer ' + 'x'.repeat(8000), `Bearer ${token ?? 'x'}\u00ff`, 'bearer x'])
    for (const name of apiNames) cases.push(httpRequest('POST', `/api/${name}`, { Host: `192.0.2.10:${port}`, Authorization: auth, 'Content-Type': 'application/json' }, '{}'));
  for (const name of apiNames) for (const body of apiBodies) {
    cases.push(httpRequest('POST', `/api/${name}`, { Host: `127.0.0.1:${port}`, 'Content-Type': 'application/json' }, body));
    if (token) cases.push(httpRequest('POST', `/api/${name}`, { Host: `192.0.2.10:${port}`, Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body));
  }
  // Framing oddities: lying or invalid lengths, chunked garbage, methods, absolute and asterisk targets.
  for (const h of [{ 'Content-Length': '-1' } as Record<string, string>, { 'Content-Length': '99999999999999999999' }, { 'Content-Length': '10' }, { 'Transfer-Encoding': 'chunked' }, { 'Transfer-Encoding': 'gzip, chunked' }, { 'Content-Length': '2', 'Transfer-Encoding': 'chunked' }])
    cases.push(httpRequest('POST', '/api/app.info', { Host: `127.0.0.1:${port}`, ...h }, 'zz\r\n'));
  for (const m of ['GET', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'PATCH', 'FOO']) for (const path of ['/api/app.info', '*', 'http://127.0.0.1/', '//', '/%'])
    cases.push(httpRequest(m, path, { Host: `127.0.0.1:${port}` }));
  cases.push('\u0000\u0001\u0002\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', 'GET /\r\n\r\n', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 'GET / HTTP/1.1\r\n' + 'X: y\r\n'.repeat(3000) + '\r\n');

  const health = () => exchange(port, httpRequest('POST', '/api/app.info', { Host: `127.0.0.1:${port}`, 'Content-Type': 'application/json' }, '{}'));
  for (let i = 0; i < cases.length; i += 25) {
    const statuses = await Promise.all(cases.slice(i, i + 25).map((c) => exchange(port, c)));
    for (const s of statuses) counts.byStatus[s] = (counts.byStatus[s] ?? 0) + 1;
    counts.sent += statuses.length;
    counts.healthChecks++;
    if ((await health()) !== 200) counts.healthFailures++;
    if (child.exitCode !== null || child.signalCode !== null) break;
  }
  return { ...counts, alive: child.exitCode === null && child.signalCode === null };
}

async function startServe(project: string, lan: boolean): Promise<{ child: ChildProcess; port: number; token: string | null; stderr: () => string }> {
  const args = [CLI, 'serve', project, '--port', '0', '--json', ...(lan ? ['--lan', '--invite', 'alice'] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += String(d)));
  const info = await new Promise<{ port: number; invites: { url: string }[] }>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += String(d);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line));
    });
    child.once('exit', (code) => reject(new Error(`serve exited (${code}): ${err}`)));
    setTimeout(() => reject(new Error('serve did not start')), 60_000).unref();
  });
  const token = info.invites[0] ? new URL(info.invites[0].url).searchParams.get('token') : null;
  return { child, port: info.port, token, stderr: () => err };
}

const dir = mkdtempSync(join(tmpdir(), 'rlhf-hostile-'));
const results: Record<string, unknown> = {};
let ok = true;
try {
  const project = join(dir, 'p.rlhf');
  spawnSync(process.execPath, [CLI, 'init', project], { stdio: 'ignore' });
  for (const lan of [false, true]) {
    const serve = await startServe(project, lan);
    const r = await attack(serve.port, serve.token, serve.child);
    const fiveHundreds = r.byStatus['500'] ?? 0;
    const logged = serve.stderr().split('\n').filter((l) => l.startsWith('rlhf-lab serve:'));
    results[lan ? 'lan' : 'loopback'] = { ...r, logged_errors: logged.length, first_logged: logged.slice(0, 3) };
    if (!r.alive || r.healthFailures > 0 || fiveHundreds > 0) ok = false;
    serve.child.kill('SIGTERM');
    await new Promise((res) => serve.child.once('exit', res));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify({ ok, ...results }, null, 1));
process.exit(ok ? 0 : 1);

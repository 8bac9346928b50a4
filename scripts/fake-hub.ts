// A stand-in for the Hugging Face Hub on 127.0.0.1, serving local folders as model repositories:
// the three endpoints `model import hf:…` uses (model info at a revision, the file tree with sizes,
// git blob hashes and LFS sha256, and /resolve/ redirecting to a file server with range requests).
// For showing an import end to end on a machine with no route to huggingface.co
// (scripts/hub-import-demo.sh); tests/main/engine/hf-hub.test.ts has its own, with faults.
//
// usage: tsx scripts/fake-hub.ts OWNER/NAME=DIR [OWNER/NAME=DIR …] [--port N]
// Prints `http://127.0.0.1:PORT` on its first line, then serves until killed.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

interface RepoFile {
  path: string;
  bytes: Buffer;
  lfs: boolean;
}

const gitSha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const args = process.argv.slice(2);
const portAt = args.indexOf('--port');
const port = portAt >= 0 ? Number(args.splice(portAt, 2)[1]) : 0;
const repos = new Map<string, { commit: string; files: RepoFile[] }>();
for (const arg of args) {
  const [id, dir] = arg.split('=');
  if (!id || !dir || !/^[^/]+\/[^/]+$/.test(id)) throw new Error(`expected OWNER/NAME=DIR, got "${arg}"`);
  const files = readdirSync(dir)
    .filter((n) => statSync(join(dir, n)).isFile())
    .map((n) => ({ path: n, bytes: readFileSync(join(dir, n)), lfs: n.endsWith('.safetensors') }));
  // The commit is a hash of the contents, so the same folder is the same snapshot in the cache.
  const commit = createHash('sha1').update(files.map((f) => f.path + gitSha1(f.bytes)).join('\n')).digest('hex');
  repos.set(id, { commit, files });
}

const server = createServer((req, res) => {
  const url = new URL(req.url!, 'http://x');
  const json = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  let m = url.pathname.match(/^\/api\/models\/([^/]+\/[^/]+)\/(revision|tree)\/([^/]+)$/);
  if (m) {
    const repo = repos.get(m[1]!);
    if (!repo || !['main', repo.commit].includes(decodeURIComponent(m[3]!))) return json(404, { error: 'Repository not found' });
    if (m[2] === 'revision') return json(200, { _id: m[1], id: m[1], sha: repo.commit, private: false, siblings: repo.files.map((f) => ({ rfilename: f.path })) });
    return json(200, repo.files.map((f) => ({ type: 'file', path: f.path, size: f.bytes.length, oid: gitSha1(f.bytes), ...(f.lfs ? { lfs: { oid: sha256(f.bytes), size: f.bytes.length, pointerSize: 134 } } : {}) })));
  }
  m = url.pathname.match(/^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/);
  if (m) {
    if (!repos.has(m[1]!)) return json(404, { error: 'Repository not found' });
    res.writeHead(302, { location: `/cdn/${m[1]}/${m[3]}` });
    return res.end();
  }
  m = url.pathname.match(/^\/cdn\/([^/]+\/[^/]+)\/(.+)$/);
  const file = m ? repos.get(m[1]!)?.files.find((f) => f.path === m![2]) : undefined;
  if (!file) return json(404, { error: 'Entry not found' });
  const range = req.headers.range?.match(/^bytes=(\d+)-(\d*)$/);
  const start = range ? Number(range[1]) : 0;
  const end = range && range[2] ? Number(range[2]) : file.bytes.length - 1;
  const body = file.bytes.subarray(start, end + 1);
  res.writeHead(range ? 206 : 200, {
    etag: `"${file.lfs ? sha256(file.bytes) : gitSha1(file.bytes)}"`,
    'accept-ranges': 'bytes',
    'content-length': String(body.length),
    ...(range ? { 'content-range': `bytes ${start}-${end}/${file.bytes.length}` } : {}),
  });
  res.end(body);
});
server.listen(port, '127.0.0.1', () => {
  console.log(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
});

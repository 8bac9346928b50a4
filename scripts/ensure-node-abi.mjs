// `npm start` rebuilds better-sqlite3 for Electron's ABI; Node (tests, the CLI) then cannot load
// it. Before tests and the CLI scripts, rebuild it for this Node when that is what happened.
import { execSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
try {
  const Database = require('better-sqlite3');
  new Database(':memory:').close();
} catch (e) {
  if (!/NODE_MODULE_VERSION|was compiled against a different Node\.js version/.test(String(e?.message))) throw e;
  console.error('better-sqlite3 was built for Electron; rebuilding it for Node…');
  execSync('npm rebuild better-sqlite3', { stdio: 'inherit' });
}

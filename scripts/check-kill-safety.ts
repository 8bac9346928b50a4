// Independent check for issue 19: SIGKILLs the CLI during imports and backups at random moments
// and checks what is left. After every kill the project opens (application_id and quick_check
// pass), every judgment submitted before it is still there, and no backup `.partial` stays once
// the project is opened; an import killed in its write pass leaves whole records only and
// importing the same file again completes it to the exact count. Prints the counts as JSON; exit 1
// when any of these fails (`npm run test:reliability` runs it in CI).
// Run: npx tsx scripts/check-kill-safety.ts [kills per kind = 10]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Project } from '../src-main/store/project.js';
import { verifyBackup } from '../src-main/store/backup.js';

const CLI = join(import.meta.dirname, '..', 'bin', 'rlhf-lab.js');
const KILLS = Number(process.argv[2] ?? 10);
const RECORDS = 60_000;

/**
 * Runs the CLI and SIGKILLs it `ms` after `file` appears (after `ms` from the start when no file
 * is given); resolves with how it ended.
 */
function killAfter(args: string[], ms: number, file?: string): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: 'ignore' });
    let timer: NodeJS.Timeout | undefined;
    const arm = () => (timer = setTimeout(() => child.kill('SIGKILL'), ms));
    const poll = file
      ? setInterval(() => {
          if (timer === undefined && existsSync(file)) arm();
        }, 2)
      : undefined;
    if (!file) arm();
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      clearInterval(poll);
      resolve(signal ?? `exit ${code}`);
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'rlhf-kills-'));
let ok = false;
const out = { import: { kills: 0, finished_before_kill: 0, partial_prefix: 0, nothing_written: 0, project_ok: 0 }, backup: { kills: 0, finished_before_kill: 0, project_ok: 0, partial_left: 0, dest_valid_or_absent: 0 }, reimport_exact: false, judgments_kept: true };
try {
  const project = join(dir, 'p.rlhf');
  spawnSync(process.execPath, [CLI, 'init', project], { stdio: 'ignore' });
  const p0 = Project.open(project);
  const who = p0.annotators.ensure('kept');
  const { id: promptId } = p0.prompts.upsert('a judgment that must survive', { source: 'human' });
  const a = p0.responses.upsert({ promptId, text: 'yes', source: 'human' }).id;
  const b = p0.responses.upsert({ promptId, text: 'no', source: 'human' }).id;
  p0.preferences.insertRanking({ uid: 'kept-1', promptId, annotatorId: who, ranking: [[a], [b]], source: 'human' });
  p0.close();
  const file = join(dir, 'prefs.jsonl');
  writeFileSync(file, Array.from({ length: RECORDS }, (_, i) => JSON.stringify({ prompt: `q${i}: what now?`, chosen: `good ${i}`, rejected: `bad ${i}` })).join('\n') + '\n');

  const check = () => {
    const p = Project.open(project); // identifies the file and runs quick_check
    const rankings = p.stats.counts().rankings;
    const kept = p.db.prepare("SELECT count(*) AS n FROM rankings WHERE uid = 'kept-1'").get() as { n: number };
    // Whole records only: every imported ranking has its two responses and its prompt.
    const torn = p.db.prepare("SELECT count(*) AS n FROM rankings r WHERE r.source = 'import' AND NOT EXISTS (SELECT 1 FROM pairs x WHERE x.prompt_id = r.prompt_id)").get() as { n: number };
    p.close();
    if (kept.n !== 1) out.judgments_kept = false;
    return { rankings, torn: torn.n };
  };

  for (let k = 0; k < KILLS; k++) {
    const how = await killAfter(['import', project, file, '--as', 'preferences'], 1500 + Math.random() * 6000);
    const { rankings, torn } = check();
    out.import.project_ok++;
    if (how !== 'SIGKILL') out.import.finished_before_kill++;
    else out.import.kills++;
    if (torn > 0) throw new Error(`torn records after kill ${k}`);
    if (rankings === 1) out.import.nothing_written++;
    else if (rankings < RECORDS + 1) out.import.partial_prefix++;
    // Start each round from the kept judgment only, so later kills hit the write pass again.
    const p = Project.open(project);
    p.db.exec("DELETE FROM rankings WHERE source = 'import'; DELETE FROM responses WHERE source = 'import'; DELETE FROM prompts WHERE source = 'import'");
    p.close();
  }
  spawnSync(process.execPath, [CLI, 'import', project, file, '--as', 'preferences'], { stdio: 'ignore' });
  out.reimport_exact = check().rankings === RECORDS + 1;

  for (let k = 0; k < KILLS; k++) {
    const dest = join(dir, `backup-${k}.rlhf`);
    // Killed 0–40 ms after its partial copy appears: mid-copy.
    const how = await killAfter(['backup', project, dest], Math.random() * 40, `${dest}.partial`);
    if (how === 'SIGKILL') out.backup.kills++;
    else out.backup.finished_before_kill++;
    check();
    out.backup.project_ok++;
    if (existsSync(`${dest}.partial`)) out.backup.partial_left++;
    if (!existsSync(dest)) out.backup.dest_valid_or_absent++;
    else {
      verifyBackup(dest);
      out.backup.dest_valid_or_absent++;
    }
  }
  const leftovers = readdirSync(dir).filter((f) => f.includes('.partial') || /-backup-\d+$/.test(f));
  ok =
    out.judgments_kept &&
    out.reimport_exact &&
    out.import.project_ok === KILLS &&
    out.backup.project_ok === KILLS &&
    out.backup.dest_valid_or_absent === KILLS &&
    out.backup.partial_left === 0 &&
    leftovers.length === 0;
  console.log(JSON.stringify({ ok, ...out, leftovers }, null, 1));
} catch (e) {
  // A torn record, a project that no longer opens or a damaged backup lands here.
  console.error(`check-kill-safety: ${e instanceof Error ? e.message : String(e)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);

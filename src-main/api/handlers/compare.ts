// compare.*: the Compare view's API (issue 8). Generation runs as the `compare` job; a blind pair
// is handed out under a random token that only the store resolves to its checkpoints (the
// blind_pairs table), so nothing in the answer says which model wrote A or B until the vote is in.
import { randomInt, randomUUID } from 'node:crypto';
import type { CompareCheckpoint, CompareOptions, CompareSetInfo, CompareSettings, ParsedInput } from '../../shared/contract.js';
import type { ApiContext } from '../context.js';
import type { Handlers } from '../router.js';
import { Services } from '../services.js';
import { latestRewardCheckpoint } from '../../compare/compare.js';
import { checkpointInfo, compareStats, promptRows, rowsCsv, votesTrl } from '../../compare/set-report.js';
import type { BlindPair } from '../../store/blind-pairs.js';
import type { ComparisonSet } from '../../store/comparison-sets.js';
import type { Project } from '../../store/project.js';
import { UserError } from '../../shared/errors.js';

/** The job writing each comparison this process started. */
const jobOfSet = new Map<number, string>();

function project(ctx: ApiContext): Project {
  return ctx.app.project();
}

function requireLocal(ctx: ApiContext): void {
  if (ctx.annotatorId !== null) throw new UserError('Only the host can start a comparison.', 'forbidden');
}

function annotatorOf(ctx: ApiContext, requested: number | undefined): number {
  if (ctx.annotatorId !== null) {
    if (requested !== undefined && requested !== ctx.annotatorId) throw new UserError('Your invite lets you vote only as yourself.', 'forbidden');
    return ctx.annotatorId;
  }
  if (requested === undefined) throw new UserError('Choose who is judging first (the annotator picker above the blind pair).', 'no_annotator');
  if (!project(ctx).annotators.get(requested)) throw new UserError(`No annotator with id ${requested}.`, 'not_found');
  return requested;
}

function setOf(ctx: ApiContext, setId: number): ComparisonSet {
  const s = project(ctx).comparisonSets.get(setId);
  if (!s) throw new UserError(`No comparison with id ${setId}.`, 'not_found');
  return settled(ctx, s);
}

/**
 * A comparison still marked running whose job is gone — stopped by force after a cancel, a crashed
 * worker, or an app restart — is marked as interrupted, so the view does not wait for it forever.
 */
function settled(ctx: ApiContext, s: ComparisonSet): ComparisonSet {
  if (s.status !== 'running' || !(ctx.app instanceof Services)) return s;
  const jobId = jobOfSet.get(s.id);
  const job = jobId === undefined ? undefined : ctx.app.jobs.list().find((j) => j.id === jobId);
  if (job?.status === 'running') return s;
  // The job writes its own final status; re-read in case it just did.
  const fresh = project(ctx).comparisonSets.get(s.id)!;
  if (fresh.status !== 'running') return fresh;
  const status = job?.status === 'failed' ? 'failed' : 'cancelled';
  const error = job?.error ?? 'interrupted before it finished';
  project(ctx).comparisonSets.setStatus(s.id, status, error);
  return { ...fresh, status, error };
}

function info(s: ComparisonSet): CompareSetInfo {
  return { id: s.id, name: s.name, status: s.status, error: s.error, created_at: s.created_at, rows: s.rows, votes: s.votes, settings: s.config as unknown as CompareSettings };
}

/**
 * The generations a caller may see with their models named. The host sees all; a teammate sees a
 * prompt's generations only once they have voted on every blind pair of that prompt, so nothing
 * maps the texts of a pair still open to them to its checkpoints ("hidden until you submit").
 */
function visibleRows(ctx: ApiContext, s: ComparisonSet) {
  const p = project(ctx);
  const rows = p.comparisonSets.rows(s.id);
  if (ctx.annotatorId === null) return rows;
  const settings = info(s).settings;
  const voted = new Set(
    p.comparisonSets
      .votes(s.id)
      .filter((v) => v.annotator_id === ctx.annotatorId)
      .map((v) => `${v.prompt_id}:${Math.min(v.checkpoint_a, v.checkpoint_b)}:${Math.max(v.checkpoint_a, v.checkpoint_b)}`),
  );
  const byPrompt = new Map<number, Map<number, number | null>>();
  for (const r of rows) byPrompt.set(r.prompt_id, (byPrompt.get(r.prompt_id) ?? new Map<number, number | null>()).set(r.checkpoint_id, r.response_id));
  const revealed = new Set<number>();
  for (const [promptId, cells] of byPrompt) {
    const open = settings.checkpoints.some((x, i) =>
      settings.checkpoints.slice(i + 1).some((y) => {
        const rx = cells.get(x);
        const ry = cells.get(y);
        return rx != null && ry != null && rx !== ry && !voted.has(`${promptId}:${Math.min(x, y)}:${Math.max(x, y)}`);
      }),
    );
    if (!open) revealed.add(promptId);
  }
  return rows.filter((r) => revealed.has(r.prompt_id));
}

function stats(ctx: ApiContext, s: ComparisonSet) {
  const p = project(ctx);
  return compareStats(s.id, info(s).settings, p.comparisonSets.rows(s.id), p.comparisonSets.votes(s.id));
}

function options(p: Project): CompareOptions {
  const all = p.checkpoints.list();
  const brief = (c: (typeof all)[number]): CompareCheckpoint => ({ id: c.id, name: c.name, stage: c.stage, step: c.step, created_at: c.created_at });
  const policies = all.filter((c) => c.stage !== 'rm');
  const latest = (stages: string[]) => policies.filter((c) => stages.includes(c.stage)).at(-1)?.id;
  const defaults = [latest(['sft']), latest(['ppo', 'dpo'])].filter((x) => x !== undefined);
  // Without an SFT or an RLHF checkpoint, the newest others fill the two default places.
  for (const c of [...policies].reverse()) if (defaults.length < 2 && !defaults.includes(c.id)) defaults.push(c.id);
  return {
    checkpoints: policies.map(brief),
    defaults,
    rewardModels: all.filter((c) => c.stage === 'rm').map(brief),
    rewardModel: latestRewardCheckpoint(p),
    tasks: p.labeling.tasks().map((t) => ({ id: t.id, name: t.name, items: p.labeling.items(t.id).length })),
    prompts: { train: p.prompts.page({ split: 'train', offset: 0, limit: 1 }).total, eval: p.prompts.page({ split: 'eval', offset: 0, limit: 1 }).total },
  };
}

function promptIdsOf(p: Project, prompts: ParsedInput<'compare.start'>['prompts']): { ids: number[]; described: CompareSettings['prompts'] } {
  if (prompts.kind === 'split') {
    const ids = [...p.prompts.iterate()].filter((x) => x.split === prompts.split).slice(0, prompts.limit).map((x) => x.id);
    if (!ids.length) throw new UserError(`The project has no ${prompts.split} prompts: import some (Data view) or type prompts.`, 'no_prompts');
    return { ids, described: prompts };
  }
  if (prompts.kind === 'task') {
    if (!p.labeling.task(prompts.taskId)) throw new UserError(`No labeling task with id ${prompts.taskId}.`, 'not_found');
    const ids = [...new Set(p.labeling.items(prompts.taskId).map((i) => i.prompt_id))].slice(0, prompts.limit);
    if (!ids.length) throw new UserError('That labeling task has no prompts.', 'no_prompts');
    return { ids, described: prompts };
  }
  const ids = p.db.transaction(() => prompts.texts.map((text) => p.prompts.upsert(text, { split: 'eval', source: 'compare' }).id))();
  return { ids: [...new Set(ids)], described: { kind: 'typed', count: prompts.texts.length } };
}

function checkpointsOf(p: Project, requested: number[] | undefined): number[] {
  const ids = requested ?? options(p).defaults;
  if (ids.length < 2) throw new UserError('A comparison needs two checkpoints: train an SFT model (Train view) first.', 'no_checkpoints');
  if (new Set(ids).size !== ids.length) throw new UserError('Each checkpoint can be chosen once.', 'bad_request');
  for (const id of ids) {
    const c = p.checkpoints.get(id);
    if (!c) throw new UserError(`No checkpoint with id ${id}.`, 'not_found');
    if (c.stage === 'rm') throw new UserError(`Checkpoint #${id} is a reward model: it scores responses, it does not write them.`, 'bad_request');
  }
  return ids;
}

function rewardModelOf(p: Project, requested: number | null | undefined): number | null {
  if (requested === undefined) return latestRewardCheckpoint(p);
  if (requested === null) return null;
  if (p.checkpoints.get(requested)?.stage !== 'rm') throw new UserError(`Checkpoint #${requested} is not a reward model.`, 'bad_request');
  return requested;
}

export const compareHandlers: Partial<Handlers<ApiContext>> = {
  'compare.options': (_input, ctx) => options(project(ctx)),

  'compare.start': (input, ctx) => {
    requireLocal(ctx);
    const p = project(ctx);
    const checkpoints = checkpointsOf(p, input.checkpoints);
    const rewardModel = rewardModelOf(p, input.reward_model);
    if (input.best_of_n > 1 && rewardModel === null) throw new UserError('Best-of-N needs a reward model: train one (Train view) or set N to 1.', 'bad_request');
    const { ids, described } = promptIdsOf(p, input.prompts);
    const settings: CompareSettings = {
      checkpoints,
      prompts: described,
      prompt_ids: ids,
      temperature: input.temperature,
      top_p: input.top_p,
      max_tokens: input.max_tokens,
      seed: input.seed,
      best_of_n: input.best_of_n,
      reward_model: rewardModel,
    };
    const name = input.name ?? checkpoints.map((id) => p.checkpoints.get(id)!.name).join(' vs ');
    const setId = p.comparisonSets.create(name, settings as unknown as Record<string, unknown>);
    try {
      const job = ctx.app.startJob(
        'compare',
        { setId, checkpoints, promptIds: ids, temperature: input.temperature, top_p: input.top_p, max_tokens: input.max_tokens, seed: input.seed, best_of_n: input.best_of_n, reward_model: rewardModel },
        `Compare ${checkpoints.map((id) => `#${id}`).join(' vs ')} on ${ids.length} prompts`,
      );
      jobOfSet.set(setId, job.id);
      ctx.app.emit('data.changed', { kinds: ['comparison_sets'] });
      return { set: info(setOf(ctx, setId)), job };
    } catch (e) {
      p.comparisonSets.setStatus(setId, 'failed', (e as Error).message);
      throw e;
    }
  },

  'compare.sets': (_input, ctx) => project(ctx).comparisonSets.list().map((s) => info(settled(ctx, s))),

  'compare.get': ({ setId }, ctx) => {
    const p = project(ctx);
    const s = setOf(ctx, setId);
    const settings = info(s).settings;
    return {
      set: info(s),
      checkpoints: settings.checkpoints.map((id) => checkpointInfo(p, id)),
      rows: promptRows(p, settings, visibleRows(ctx, s)),
      stats: compareStats(setId, settings, p.comparisonSets.rows(setId), p.comparisonSets.votes(setId)),
    };
  },

  'compare.stats': ({ setId }, ctx) => stats(ctx, setOf(ctx, setId)),

  'compare.nextBlind': ({ setId, annotatorId }, ctx) => {
    const who = annotatorOf(ctx, annotatorId);
    const p = project(ctx);
    const s = setOf(ctx, setId);
    const settings = info(s).settings;
    const key = (promptId: number, x: number, y: number) => `${promptId}:${Math.min(x, y)}:${Math.max(x, y)}`;
    const mine = p.comparisonSets.votes(setId).filter((v) => v.annotator_id === who);
    const judged = new Set(mine.map((v) => key(v.prompt_id, v.checkpoint_a, v.checkpoint_b)));
    const cells = new Map(p.comparisonSets.rows(setId).map((r) => [`${r.prompt_id}:${r.checkpoint_id}`, r]));
    // Every pair of checkpoints on every prompt where both wrote something and the texts differ.
    const open: { promptId: number; x: number; y: number; rx: number; ry: number }[] = [];
    for (const promptId of settings.prompt_ids) {
      settings.checkpoints.forEach((x, i) => {
        for (const y of settings.checkpoints.slice(i + 1)) {
          const rx = cells.get(`${promptId}:${x}`)?.response_id;
          const ry = cells.get(`${promptId}:${y}`)?.response_id;
          if (!rx || !ry || rx === ry || judged.has(key(promptId, x, y))) continue;
          open.push({ promptId, x, y, rx, ry });
        }
      });
    }
    if (!open.length) return null;
    const pick = open[randomInt(open.length)]!;
    const flip = randomInt(2) === 1;
    const pair: BlindPair = {
      setId,
      annotatorId: who,
      promptId: pick.promptId,
      responseA: flip ? pick.ry : pick.rx,
      responseB: flip ? pick.rx : pick.ry,
      checkpointA: flip ? pick.y : pick.x,
      checkpointB: flip ? pick.x : pick.y,
    };
    const token = randomUUID();
    p.blindPairs.open(token, pair);
    return {
      token,
      prompt: { id: pick.promptId, text: p.prompts.get(pick.promptId)?.text ?? '' },
      a: p.responses.get(pair.responseA)?.text ?? '',
      b: p.responses.get(pair.responseB)?.text ?? '',
      remaining: open.length,
      voted: mine.length,
    };
  },

  'compare.vote': ({ token, outcome, annotatorId, seconds_spent }, ctx) => {
    const who = annotatorOf(ctx, annotatorId);
    const p = project(ctx);
    const pair = p.blindPairs.get(token);
    if (!pair) throw new UserError('This blind pair is no longer open (already voted, or replaced by newer ones): take the next one.', 'expired');
    if (pair.annotatorId !== who) throw new UserError('This blind pair was handed to another annotator.', 'forbidden');
    const s = setOf(ctx, pair.setId);
    p.db.transaction(() => {
      p.blindPairs.close(token);
      p.comparisonSets.vote(pair.setId, { ...pair, outcome, annotatorId: who, secondsSpent: seconds_spent });
    })();
    ctx.app.emit('data.changed', { kinds: ['comparisons'] });
    return {
      outcome,
      revealed: { a: checkpointInfo(p, pair.checkpointA), b: checkpointInfo(p, pair.checkpointB) },
      stats: stats(ctx, setOf(ctx, s.id)),
    };
  },

  'compare.export': ({ setId, format }, ctx) => {
    const p = project(ctx);
    const s = setOf(ctx, setId);
    const settings = info(s).settings;
    const base = `comparison-${setId}`;
    // A teammate exports their own votes and the generations already revealed to them.
    const votes = p.comparisonSets.votes(setId).filter((v) => ctx.annotatorId === null || v.annotator_id === ctx.annotatorId);
    if (format === 'trl') return { name: `${base}-votes-trl.jsonl`, ...votesTrl(votes) };
    const checkpoints = settings.checkpoints.map((id) => checkpointInfo(p, id));
    const rows = promptRows(p, settings, visibleRows(ctx, s));
    if (format === 'csv') return { name: `${base}.csv`, ...rowsCsv(rows, new Map(checkpoints.map((c) => [c.id, c.name]))) };
    const text = JSON.stringify({ comparison: info(s), checkpoints, rows, stats: stats(ctx, s) }, null, 2);
    return { name: `${base}.json`, text, count: rows.length };
  },
};

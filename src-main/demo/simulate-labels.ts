// The demo's labeling round without people: sample K responses per training prompt from the SFT
// model, put them in a ranking task, and let the simulated annotators rank them by the guidelines.
// Everything is stored like a real round (responses with their checkpoint, a label task, rankings by
// annotators flagged as simulated), so Label shows it and the reward model trains on it unchanged.
import { loadModel } from '../engine/io/checkpoint-io.js';
import { generate } from '../engine/models/generate.js';
import { Rng } from '../engine/rng.js';
import { textEncoder } from '../engine/train/sequences.js';
import type { Project } from '../store/project.js';
import { DEMO_ANNOTATORS, SimulatedAnnotator } from './rubric.js';

export interface SimulateOptions {
  checkpointId: number;
  /** How many training prompts get a ranking item. */
  prompts: number;
  /** Responses per item (2–9); prompts with fewer distinct samples get smaller items, down to 2. */
  k: number;
  /** Samples drawn per prompt to find K distinct responses. */
  samples: number;
  temperature: number;
  maxNewTokens: number;
  /** Simulated annotators ranking each item (of the three). */
  annotatorsPerItem: number;
  seed: number;
  batchPrompts?: number;
}

export interface SimulateResult {
  task_id: number;
  items: number;
  rankings: number;
  mean_distinct: number;
}

export async function simulateLabelRound(
  project: Project,
  o: SimulateOptions,
  hooks: { progress?(done: number, total: number): void; signal?: AbortSignal } = {},
): Promise<SimulateResult> {
  const rng = new Rng(o.seed).fork('simulate-labels');
  const prompts = rng.shuffle([...project.prompts.iterate()].filter((p) => p.split === 'train')).slice(0, o.prompts);
  const { model, tokenizer: tok, config } = loadModel(project, o.checkpointId);
  const enc = textEncoder(tok);
  const items: { promptId: number; text: string; responseIds: number[]; texts: string[] }[] = [];
  let distinct = 0;
  try {
    const per = o.batchPrompts ?? 8;
    for (let i = 0; i < prompts.length; i += per) {
      if (hooks.signal?.aborted) throw new Error('cancelled');
      const part = prompts.slice(i, i + per);
      const ids = part.map((p) => enc.prompt(p.text));
      const maxNew = Math.min(o.maxNewTokens, config.n_positions - 1 - Math.max(...ids.map((x) => x.length)));
      const rows = part.flatMap((_, k) => Array.from({ length: o.samples }, () => ids[k]!));
      const seed = o.seed + i;
      const out = generate(model, rows, { maxNewTokens: Math.max(1, maxNew), temperature: o.temperature, eosId: tok.eosId, padId: tok.padId, seed });
      part.forEach((p, k) => {
        const texts: string[] = [];
        for (let s = 0; s < o.samples; s++) {
          const t = out.tokens[k * o.samples + s]!;
          const body = t.length && t[t.length - 1] === tok.eosId ? t.slice(0, -1) : t;
          const text = tok.decode(body, { skipSpecial: true }).trim();
          if (text && !texts.includes(text) && texts.length < o.k) texts.push(text);
        }
        distinct += texts.length;
        if (texts.length < 2) return;
        // A random display order: the order of sampling must not hint at anything.
        rng.fork(p.id).shuffle(texts);
        const genParams = { temperature: o.temperature, top_k: 0, top_p: 1, max_tokens: maxNew };
        const responseIds = texts.map(
          (text) => project.responses.upsert({ promptId: p.id, text, source: 'checkpoint', checkpointId: o.checkpointId, genParams, seed }).id,
        );
        items.push({ promptId: p.id, text: p.text, responseIds, texts });
      });
      hooks.progress?.(Math.min(i + per, prompts.length), prompts.length);
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    model.dispose();
  }

  const task = project.labeling.createTask({
    name: `Demo: rank ${o.k} SFT samples (simulated annotators)`,
    mode: 'ranking',
    k: o.k,
    minAnnotators: o.annotatorsPerItem,
    config: { simulated: true, checkpoints: [o.checkpointId], seed: o.seed, temperature: o.temperature },
    items: items.map((it) => ({ promptId: it.promptId, responseIds: it.responseIds })),
  });
  const annotators = DEMO_ANNOTATORS.map((profile) => ({
    id: project.annotators.ensure(profile.name, { colour: profile.colour, simulated: true }),
    judge: new SimulatedAnnotator(profile, rng.fork(profile.name)),
  }));
  // The labeling store writes rankings as human work; these are marked as what they are.
  const markSimulated = project.db.prepare<[number, number]>(
    "UPDATE rankings SET source = 'simulated' WHERE item_id = ? AND annotator_id = ?",
  );
  let rankings = 0;
  project.db.transaction(() => {
    project.labeling.items(task.id).forEach((item, n) => {
      const it = items.find((x) => x.promptId === item.prompt_id)!;
      for (let a = 0; a < o.annotatorsPerItem; a++) {
        const who = annotators[(n + a) % annotators.length]!;
        const groups = who.judge.rank(it.text, it.texts).map((g) => g.map((i) => it.responseIds[i]!));
        project.labeling.submit(item.id, who.id, { ranking: groups, flags: [], comment: '', seconds_spent: 0 });
        markSimulated.run(item.id, who.id);
        rankings++;
      }
    });
  })();
  return { task_id: task.id, items: items.length, rankings, mean_distinct: prompts.length ? distinct / prompts.length : 0 };
}

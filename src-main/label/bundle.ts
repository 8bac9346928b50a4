// Annotation bundles: a project's annotators and judgments as one JSON document that merges into
// another project (a teammate labeled on their own machine, a copy of the project, a second
// site). Judgments carry their texts rather than row ids, because ids differ between projects,
// and their uid, so importing the same bundle twice, or a bundle that contains judgments the
// project already has, adds nothing twice.
import { z } from 'zod';
import type { BundleImportResult } from '../shared/contract.js';
import { FLAGS } from '../store/labeling.js';
import type { Project } from '../store/project.js';
import { voteOutcomeSchema } from '../shared/vocabulary.js';

const FORMAT = 'rlhf-lab/annotations';
const flag = z.enum(FLAGS);
const text = z.string().max(1_000_000);
const meta = {
  uid: z.string().min(8).max(100),
  annotator: z.string().min(1).max(80),
  prompt: text,
  flags: z.array(flag).max(3),
  comment: z.string().max(10_000),
  seconds_spent: z.number().min(0),
  task: z.string().max(200).nullable(),
  created_at: z.number().int().min(0),
};

export const bundleSchema = z
  .object({
    format: z.literal(FORMAT),
    version: z.literal(1),
    exported_at: z.number().int(),
    annotators: z.array(
      z.object({ name: z.string().min(1).max(80), colour: z.string().regex(/^#[0-9a-fA-F]{6}$/), simulated: z.boolean() }).strict(),
    ),
    rankings: z.array(
      z
        .object({
          ...meta,
          status: z.enum(['submitted', 'skipped']),
          /** The responses the annotator saw; `ranking` holds indices into this list. */
          responses: z.array(text).min(1).max(9),
          ranking: z.array(z.array(z.number().int().min(0).max(8)).max(9)).max(9),
          source: z.enum(['human', 'import', 'simulated']),
          updated_at: z.number().int().min(0),
        })
        .strict()
        .refine((r) => r.ranking.flat().every((i) => i < r.responses.length), 'ranking refers to a response it does not list'),
    ),
    votes: z.array(
      z
        .object({ ...meta, a: text, b: text, outcome: voteOutcomeSchema, context: z.enum(['label', 'compare']) })
        .strict(),
    ),
  })
  .strict();
export type Bundle = z.infer<typeof bundleSchema>;

export function exportBundle(project: Project): Bundle {
  const lab = project.labeling;
  const promptText = (id: number) => project.prompts.get(id)?.text ?? '';
  const responseText = (id: number) => project.responses.get(id)?.text ?? '';
  const rankings: Bundle['rankings'] = lab.bundleRankings().map((r) => {
    // The responses as shown (a skip may hold a partial ranking or none), so that the judgment
    // finds its item again on import.
    const item = r.item_id !== null ? lab.item(r.item_id) : undefined;
    const shown = item?.response_ids ?? r.ranking.flat();
    const index = new Map(shown.map((id, i) => [id, i]));
    return {
      uid: r.uid,
      annotator: r.annotator,
      prompt: promptText(r.prompt_id),
      flags: r.flags,
      comment: r.comment,
      seconds_spent: r.seconds_spent,
      task: r.task,
      created_at: r.created_at,
      updated_at: r.updated_at,
      status: r.status as 'submitted' | 'skipped',
      responses: shown.map(responseText),
      ranking: r.ranking.map((tier) => tier.map((id) => index.get(id)!)),
      source: r.source as 'human' | 'import' | 'simulated',
    };
  });
  const votes: Bundle['votes'] = lab.bundleVotes().map((v) => ({
    uid: v.uid,
    annotator: v.annotator,
    prompt: promptText(v.prompt_id),
    flags: v.flags,
    comment: v.comment,
    seconds_spent: v.seconds_spent,
    task: v.task,
    created_at: v.created_at,
    a: responseText(v.response_a),
    b: responseText(v.response_b),
    outcome: v.outcome,
    context: v.context as 'label' | 'compare',
  }));
  const used = new Set([...rankings, ...votes].map((j) => j.annotator));
  const annotators = project.annotators
    .list()
    .filter((a) => used.has(a.name))
    .map((a) => ({ name: a.name, colour: a.colour, simulated: a.simulated }));
  return { format: FORMAT, version: 1, exported_at: Date.now(), annotators, rankings, votes };
}

export class BundleError extends Error {}

export function parseBundle(json: string): Bundle {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new BundleError(`not JSON: ${(e as Error).message}`);
  }
  const parsed = bundleSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BundleError(`not an annotation bundle: ${issue.path.join('.') || 'document'}: ${issue.message}`);
  }
  return parsed.data;
}

/** Merges a bundle in one transaction: annotators by name, prompts and responses by text, judgments by uid. */
export function importBundle(project: Project, bundle: Bundle): BundleImportResult {
  const lab = project.labeling;
  const result: BundleImportResult = { annotators: 0, rankings: 0, votes: 0, duplicates: 0, prompts: 0, responses: 0 };
  project.db.transaction(() => {
    const annotatorIds = new Map<string, number>();
    const annotator = (name: string) => {
      let id = annotatorIds.get(name);
      if (id === undefined) {
        const known = project.annotators.byName(name);
        const info = bundle.annotators.find((a) => a.name === name);
        id = known?.id ?? project.annotators.ensure(name, { colour: info?.colour, simulated: info?.simulated });
        if (!known) result.annotators++;
        annotatorIds.set(name, id);
      }
      return id;
    };
    const prompt = (t: string) => {
      const p = project.prompts.upsert(t, { source: 'bundle' });
      if (p.created) result.prompts++;
      return p.id;
    };
    const response = (promptId: number, t: string) => {
      const r = project.responses.upsert({ promptId, text: t, source: 'import' });
      if (r.created) result.responses++;
      return r.id;
    };

    for (const r of bundle.rankings) {
      const promptId = prompt(r.prompt);
      const ids = r.responses.map((t) => response(promptId, t));
      const item = lab.matchItem(promptId, ids, r.task);
      const added = lab.importRanking({
        uid: r.uid,
        prompt_id: promptId,
        annotator_id: annotator(r.annotator),
        item_id: item?.id ?? null,
        status: r.status,
        ranking: JSON.stringify(r.ranking.map((tier) => tier.map((i) => ids[i]!))),
        flags: JSON.stringify(r.flags),
        comment: r.comment,
        seconds_spent: r.seconds_spent,
        source: r.source,
        created_at: r.created_at,
        updated_at: r.updated_at,
      });
      if (added) result.rankings++;
      else result.duplicates++;
    }
    for (const v of bundle.votes) {
      const promptId = prompt(v.prompt);
      const a = response(promptId, v.a);
      const b = response(promptId, v.b);
      const item = v.context === 'label' ? lab.matchItem(promptId, [a, b], v.task) : undefined;
      const added = lab.importVote({
        uid: v.uid,
        prompt_id: promptId,
        response_a: a,
        response_b: b,
        outcome: v.outcome,
        annotator_id: annotator(v.annotator),
        context: v.context,
        flags: JSON.stringify(v.flags),
        comment: v.comment,
        seconds_spent: v.seconds_spent,
        created_at: v.created_at,
        item_id: item?.id ?? null,
      });
      if (added) result.votes++;
      else result.duplicates++;
    }
  })();
  return result;
}

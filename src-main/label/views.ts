// What the Label view and the progress panel show, assembled from the store: one item as one
// annotator sees it (sources only after their judgment), task summaries, progress, agreement.
import type {
  ItemJudgment,
  LabelAgreement,
  LabelItemView,
  LabelProgress,
  LabelTaskInfo,
  ResponseSourceInfo,
} from '../shared/contract.js';
import type { LabelTask, ResponseInfo } from '../store/labeling.js';
import type { Project } from '../store/project.js';
import { conflicts, nextFor, queueFor, submissionCounts } from './queue.js';
import { taskAgreement } from './stats.js';
import type { VoteOutcome } from '../shared/vocabulary.js';

export function taskInfo(project: Project, task: LabelTask): LabelTaskInfo {
  const counts = submissionCounts(project.labeling.statusMarks(task.id));
  let done = 0;
  for (const n of counts.values()) if (n >= task.min_annotators) done++;
  return {
    id: task.id,
    name: task.name,
    mode: task.mode,
    k: task.k,
    min_annotators: task.min_annotators,
    items: task.items,
    done,
    first_item: project.labeling.firstItem(task.id),
    created_at: task.created_at,
  };
}

export function sourceLabel(r: ResponseInfo): ResponseSourceInfo {
  const label =
    r.checkpoint_id !== null
      ? `checkpoint ${r.checkpoint_name ?? `#${r.checkpoint_id}`}${r.checkpoint_step ? ` (step ${r.checkpoint_step})` : ''}`
      : r.source === 'checkpoint'
        ? 'a deleted checkpoint'
        : r.source === 'human'
          ? 'written by a person'
          : 'imported';
  return { id: r.id, label, checkpoint_id: r.checkpoint_id };
}

export function itemView(project: Project, itemId: number, annotatorId: number): LabelItemView | null {
  const lab = project.labeling;
  const item = lab.item(itemId);
  if (!item) return null;
  const task = lab.task(item.task_id)!;
  const items = lab.itemRefs(task.id);
  const q = queueFor(annotatorId, items, lab.statusMarks(task.id), task.min_annotators);
  const index = items.findIndex((i) => i.id === itemId);
  const ranking = lab.ranking(itemId, annotatorId);
  const vote = lab.vote(itemId, annotatorId);
  const responses = lab.responses(item.response_ids);
  const judged = vote !== undefined || ranking?.status === 'submitted';
  return {
    task: { id: task.id, name: task.name, mode: task.mode, k: task.k, min_annotators: task.min_annotators },
    item: {
      id: item.id,
      position: index + 1,
      total: items.length,
      prev: items[index - 1]?.id ?? null,
      next: items[index + 1]?.id ?? null,
    },
    annotatorId,
    prompt: { id: item.prompt_id, text: project.prompts.get(item.prompt_id)?.text ?? '' },
    responses: responses.map((r) => ({ id: r.id, text: r.text })),
    judgment: ranking
      ? {
          status: ranking.status,
          ranking: ranking.ranking,
          flags: ranking.flags,
          comment: ranking.comment,
          seconds_spent: ranking.seconds_spent,
          updated_at: ranking.updated_at,
        }
      : null,
    vote: vote ? { outcome: vote.outcome, flags: vote.flags, comment: vote.comment, seconds_spent: vote.seconds_spent } : null,
    sources: judged ? responses.map(sourceLabel) : null,
    queue: { pending: q.pending.length, draft: q.draft.length, submitted: q.submitted.length, skipped: q.skipped.length },
  };
}

/** The item this annotator should see next in a task (see queue.ts nextFor). */
export function nextItemId(project: Project, taskId: number, annotatorId: number, revisitSkipped = false): number | null {
  const lab = project.labeling;
  const task = lab.task(taskId);
  if (!task) return null;
  return nextFor(annotatorId, lab.itemRefs(taskId), lab.statusMarks(taskId), task.min_annotators, revisitSkipped);
}

export function progress(project: Project, task: LabelTask): LabelProgress {
  const lab = project.labeling;
  const items = lab.items(task.id);
  const marks = lab.marks(task.id);
  const counts = submissionCounts(marks);
  const positions = new Map(items.map((i, n) => [i.id, { position: n + 1, promptId: i.prompt_id }]));
  const annotators = project.annotators.list();
  const names = new Map(annotators.map((a) => [a.id, a.name]));
  const involved = new Set(marks.map((m) => m.annotatorId));
  const perAnnotator = annotators
    .filter((a) => !(a.simulated || a.pseudo) || involved.has(a.id))
    .map((a) => {
      const q = queueFor(a.id, items, marks, task.min_annotators);
      const secs = marks
        .filter((m) => m.annotatorId === a.id && m.status === 'submitted' && m.seconds !== undefined)
        .map((m) => m.seconds!);
      return {
        id: a.id,
        name: a.name,
        colour: a.colour,
        simulated: a.simulated,
        pending: q.pending.length,
        draft: q.draft.length,
        submitted: q.submitted.length,
        skipped: q.skipped.length,
        median_seconds: median(secs),
      };
    });
  const conflictList = conflicts(marks).map((c) => {
    const at = positions.get(c.itemId)!;
    return {
      itemId: c.itemId,
      position: at.position,
      prompt: project.prompts.get(at.promptId)?.text ?? '',
      annotators: c.annotators.map((id) => names.get(id) ?? `#${id}`),
      disagreement: c.disagreement,
    };
  });
  let done = 0;
  let submissions = 0;
  for (const n of counts.values()) {
    submissions += n;
    if (n >= task.min_annotators) done++;
  }
  return {
    task: taskInfo(project, task),
    overall: { items: items.length, done, submissions, conflicts: conflictList.length },
    annotators: perAnnotator,
    conflicts: conflictList,
  };
}

export function agreement(project: Project, task: LabelTask): LabelAgreement {
  const a = taskAgreement(task.mode, project.labeling.marks(task.id));
  const names = new Map(project.annotators.list().map((x) => [x.id, x.name]));
  return {
    metric: a.metric,
    alpha: a.alpha,
    reading: a.reading,
    items: a.items,
    pairs: a.pairs.map((p) => ({ a: names.get(p.a) ?? `#${p.a}`, b: names.get(p.b) ?? `#${p.b}`, kappa: p.kappa, n: p.n, reading: p.reading })),
  };
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const OUTCOME_TEXT: Record<VoteOutcome, string> = { a: 'A better', b: 'B better', tie: 'tie', both_bad: 'both bad' };

/** Everyone's judgment of an item, rankings written in the display numbers the annotators saw. */
export function itemJudgments(project: Project, itemId: number): ItemJudgment[] | null {
  const item = project.labeling.item(itemId);
  if (!item) return null;
  const number = new Map(item.response_ids.map((id, i) => [id, i + 1]));
  const people = new Map(project.annotators.list().map((a) => [a.id, a]));
  return project.labeling.judgmentsOf(itemId).map((j) => {
    const who = people.get(j.annotator_id);
    const order =
      j.kind === 'vote'
        ? OUTCOME_TEXT[j.outcome]
        : j.ranking.map((tier) => tier.map((id) => number.get(id)).join(' = ')).join(' > ') || '(nothing ranked)';
    return {
      annotator: who?.name ?? `#${j.annotator_id}`,
      colour: who?.colour ?? '#888888',
      status: j.kind === 'vote' ? 'submitted' : j.status,
      order,
      flags: j.flags,
      comment: j.comment,
      seconds_spent: j.seconds_spent,
    };
  });
}

// annotators.*, label.*, guidelines.*: the Label view's API (issue 6).
// Who is labeling: in LAN mode the caller's invite decides (ctx.annotatorId) and naming anyone
// else is refused; locally the renderer passes the profile chosen in the annotator switcher.
import type { ApiContext } from '../context.js';
import type { Handlers } from '../router.js';
import { LabelingError } from '../../store/labeling.js';
import type { Project } from '../../store/project.js';
import { exportBundle, importBundle, parseBundle, BundleError } from '../../label/bundle.js';
import { planTask } from '../../label/tasks.js';
import { agreement, itemJudgments, itemView, nextItemId, progress, sourceLabel, taskInfo } from '../../label/views.js';
import { UserError } from '../../shared/errors.js';

function project(ctx: ApiContext): Project {
  return ctx.app.project();
}

/** Managing tasks, profiles and guidelines is for the host, not for a LAN caller. */
function requireLocal(ctx: ApiContext): void {
  if (ctx.annotatorId !== null) throw new UserError('Only the host can do this.', 'forbidden');
}

function annotatorOf(ctx: ApiContext, requested: number | undefined): number {
  if (ctx.annotatorId !== null) {
    if (requested !== undefined && requested !== ctx.annotatorId) {
      throw new UserError('Your invite lets you label only as yourself.', 'forbidden');
    }
    return ctx.annotatorId;
  }
  if (requested === undefined) throw new UserError('Choose who is labeling first (the annotator switcher, top right).', 'no_annotator');
  if (!project(ctx).annotators.get(requested)) throw new UserError(`No annotator with id ${requested}.`, 'not_found');
  return requested;
}

function task(ctx: ApiContext, taskId: number) {
  const t = project(ctx).labeling.task(taskId);
  if (!t) throw new UserError(`No labeling task with id ${taskId}.`, 'not_found');
  return t;
}

/** Store refusals become errors the user can act on. */
function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof LabelingError) throw new UserError(e.message, e.code);
    throw e;
  }
}

function changed(ctx: ApiContext, itemId: number, annotatorId: number): void {
  const item = project(ctx).labeling.item(itemId);
  if (item) ctx.app.emit('label.changed', { taskId: item.task_id, itemId, annotatorId });
}

function annotatorInfo(ctx: ApiContext, id: number) {
  const a = project(ctx).annotators.get(id);
  if (!a) throw new UserError(`No annotator with id ${id}.`, 'not_found');
  return a;
}

function taskOfItem(ctx: ApiContext, itemId: number): number {
  const item = project(ctx).labeling.item(itemId);
  if (!item) throw new UserError(`Label item ${itemId} does not exist.`, 'not_found');
  return item.task_id;
}

export const labelHandlers: Partial<Handlers<ApiContext>> = {
  'annotators.list': (_input, ctx) => project(ctx).annotators.list(),
  'annotators.me': (_input, ctx) => (ctx.annotatorId === null ? null : annotatorInfo(ctx, ctx.annotatorId)),
  'annotators.create': ({ name, colour }, ctx) => {
    requireLocal(ctx);
    const id = project(ctx).labeling.createAnnotator(name, colour ?? '#4f7cff');
    if (id === null) throw new UserError(`An annotator named "${name}" already exists.`, 'conflict');
    ctx.app.emit('data.changed', { kinds: ['annotators'] });
    return annotatorInfo(ctx, id);
  },
  'annotators.update': ({ id, name, colour }, ctx) => {
    // A LAN annotator may change their own name and colour, nobody else's.
    if (ctx.annotatorId !== null && ctx.annotatorId !== id) throw new UserError('You can change only your own profile.', 'forbidden');
    const other = name === undefined ? undefined : project(ctx).annotators.byName(name);
    if (other && other.id !== id) throw new UserError(`An annotator named "${name}" already exists.`, 'conflict');
    if (!project(ctx).labeling.updateAnnotator(id, { name, colour })) throw new UserError(`No annotator with id ${id}.`, 'not_found');
    ctx.app.emit('data.changed', { kinds: ['annotators'] });
    return annotatorInfo(ctx, id);
  },

  'label.tasks': (_input, ctx) => project(ctx).labeling.tasks().map((t) => taskInfo(project(ctx), t)),
  'label.createTask': (input, ctx) => {
    requireLocal(ctx);
    const p = project(ctx);
    const planned = planTask(p, {
      name: input.name,
      mode: input.mode,
      k: input.k,
      minAnnotators: input.minAnnotators,
      promptIds: input.promptIds,
      split: input.split,
      limit: input.limit,
      seed: input.seed,
      checkpointIds: input.checkpointIds,
    });
    if (planned.task.items.length === 0) {
      const k = input.mode === 'pairwise' ? 2 : input.k;
      throw new UserError(
        `No prompt has ${k} responses${input.checkpointIds?.length ? ' from the chosen checkpoints' : ''}: ` +
          'import responses (Data view) or generate them with a checkpoint first.',
        'no_items',
      );
    }
    const created = p.labeling.createTask(planned.task);
    ctx.app.emit('data.changed', { kinds: ['label_tasks'] });
    return { task: taskInfo(p, created), short: planned.short };
  },
  'label.generateTask': (input, ctx) => {
    requireLocal(ctx);
    const k = input.mode === 'pairwise' ? 2 : input.k;
    if (input.checkpointIds.length > k) {
      throw new UserError(`${input.checkpointIds.length} checkpoints cannot share ${k} responses per prompt: choose at most ${k}.`, 'bad_request');
    }
    for (const id of input.checkpointIds) {
      if (!project(ctx).checkpoints.get(id)) throw new UserError(`No checkpoint with id ${id}.`, 'not_found');
    }
    return ctx.app.startJob('label-generate', input, `Generate ${k} responses per prompt for “${input.name}”`);
  },
  'label.next': ({ taskId, annotatorId, revisitSkipped }, ctx) => {
    task(ctx, taskId);
    const who = annotatorOf(ctx, annotatorId);
    const next = nextItemId(project(ctx), taskId, who, revisitSkipped);
    return next === null ? null : itemView(project(ctx), next, who);
  },
  'label.get': ({ itemId, annotatorId }, ctx) => {
    const who = annotatorOf(ctx, annotatorId);
    const view = guarded(() => itemView(project(ctx), itemId, who));
    if (!view) throw new UserError(`Label item ${itemId} does not exist.`, 'not_found');
    return view;
  },
  'label.saveDraft': ({ itemId, annotatorId, ...j }, ctx) => {
    const who = annotatorOf(ctx, annotatorId);
    const saved = guarded(() => project(ctx).labeling.saveDraft(itemId, who, j));
    changed(ctx, itemId, who);
    return { status: saved.status, updated_at: saved.updated_at };
  },
  'label.submit': ({ itemId, annotatorId, ...j }, ctx) => {
    const who = annotatorOf(ctx, annotatorId);
    const lab = project(ctx).labeling;
    const saved = guarded(() => lab.submit(itemId, who, j));
    changed(ctx, itemId, who);
    const item = lab.item(itemId)!;
    return {
      judgment: {
        status: saved.status,
        ranking: saved.ranking,
        flags: saved.flags,
        comment: saved.comment,
        seconds_spent: saved.seconds_spent,
        updated_at: saved.updated_at,
      },
      sources: lab.responses(item.response_ids).map(sourceLabel),
      next: nextItemId(project(ctx), item.task_id, who),
    };
  },
  'label.skip': ({ itemId, annotatorId, seconds_spent }, ctx) => {
    const who = annotatorOf(ctx, annotatorId);
    guarded(() => project(ctx).labeling.skip(itemId, who, seconds_spent));
    changed(ctx, itemId, who);
    return { next: nextItemId(project(ctx), taskOfItem(ctx, itemId), who) };
  },
  'label.vote': ({ itemId, annotatorId, ...v }, ctx) => {
    const who = annotatorOf(ctx, annotatorId);
    const lab = project(ctx).labeling;
    const { vote, created } = guarded(() => lab.castVote(itemId, who, v));
    if (created) changed(ctx, itemId, who);
    return {
      outcome: vote.outcome,
      created,
      sources: lab.responses([vote.response_a, vote.response_b]).map(sourceLabel),
      next: nextItemId(project(ctx), taskOfItem(ctx, itemId), who),
    };
  },
  'label.progress': ({ taskId }, ctx) => progress(project(ctx), task(ctx, taskId)),
  'label.agreement': ({ taskId }, ctx) => agreement(project(ctx), task(ctx, taskId)),
  'label.itemJudgments': ({ itemId }, ctx) => {
    requireLocal(ctx);
    const list = itemJudgments(project(ctx), itemId);
    if (!list) throw new UserError(`Label item ${itemId} does not exist.`, 'not_found');
    return list;
  },

  'guidelines.get': (_input, ctx) => project(ctx).labeling.guidelines(),
  'guidelines.set': ({ markdown }, ctx) => {
    requireLocal(ctx);
    return project(ctx).labeling.setGuidelines(markdown);
  },

  'label.exportBundle': (_input, ctx) => {
    requireLocal(ctx);
    const p = project(ctx);
    const bundle = exportBundle(p);
    const stem = p.path.replace(/^.*[\\/]/, '').replace(/\.rlhf$/, '');
    return {
      name: `${stem}-annotations.json`,
      text: JSON.stringify(bundle),
      rankings: bundle.rankings.length,
      votes: bundle.votes.length,
      annotators: bundle.annotators.length,
    };
  },
  'label.importBundle': ({ text }, ctx) => {
    requireLocal(ctx);
    let bundle;
    try {
      bundle = parseBundle(text);
    } catch (e) {
      if (e instanceof BundleError) throw new UserError(`This file is ${e.message}.`, 'invalid_bundle');
      throw e;
    }
    const result = importBundle(project(ctx), bundle);
    ctx.app.emit('data.changed', { kinds: ['annotators', 'rankings', 'comparisons', 'prompts', 'responses'] });
    return result;
  },
};

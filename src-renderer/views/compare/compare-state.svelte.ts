// The Compare view's state: the options and stored comparisons, the new-comparison form, the
// running job, the open comparison (rows + statistics), the table's filter and sort, and the
// blind judging session (annotator, current anonymous pair, the last reveal).
import type {
  AnnotatorInfo,
  BlindPair,
  BlindVoteResult,
  CompareOptions,
  CompareSetInfo,
  CompareSetView,
  ComparePromptRow,
  Input,
  JobInfo,
} from '../../../src-main/shared/contract.js';
import type { Client } from '../../lib/api';
import type { VoteOutcome } from '../../../src-main/shared/vocabulary.js';
import { downloadText } from '../../lib/download';
import type { JobsState } from '../../lib/jobs.svelte';

/** Shared with the Label view's annotator switcher: one "who am I" across views. */
const ANNOTATOR_KEY = 'rlhf-lab.annotator';

export class CompareState {
  #client: Client;
  #jobs: JobsState;
  options = $state.raw<CompareOptions | null>(null);
  sets = $state.raw<CompareSetInfo[]>([]);
  current = $state.raw<CompareSetView | null>(null);
  job = $state.raw<JobInfo | null>(null);
  error = $state<string | null>(null);
  mode = $state<'table' | 'blind'>('table');
  showForm = $state(false);

  // The new-comparison form, with the API's defaults.
  form = $state({
    checkpoints: [] as number[],
    promptKind: 'split' as 'split' | 'task' | 'typed',
    split: 'eval' as 'train' | 'eval',
    taskId: 0,
    limit: 50,
    typed: '',
    temperature: 0.7,
    top_p: 1,
    max_tokens: 48,
    seed: 0,
    best_of_n: 1,
    scoreWithRm: true,
  });

  onlyDiffer = $state(false);
  sortBy = $state<'prompt' | 'gap'>('prompt');
  readonly rows: ComparePromptRow[] = $derived.by(() => {
    const rows = (this.current?.rows ?? []).filter((r) => !this.onlyDiffer || r.differ);
    return this.sortBy === 'gap' ? [...rows].sort((x, y) => (y.gap ?? -Infinity) - (x.gap ?? -Infinity)) : rows;
  });

  annotators = $state.raw<AnnotatorInfo[]>([]);
  annotatorId = $state<number | null>(null);
  pair = $state.raw<BlindPair | null>(null);
  blindDone = $state(false);
  revealed = $state.raw<(BlindVoteResult & { prompt: string }) | null>(null);
  #shownAt = 0;

  constructor(client: Client, jobs: JobsState) {
    this.#client = client;
    this.#jobs = jobs;
  }

  async #guard<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      this.error = null;
      return await fn();
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
      return undefined;
    }
  }

  async load(): Promise<void> {
    await this.#guard(async () => {
      const [options, sets, annotators] = await Promise.all([
        this.#client.call('compare.options', {}),
        this.#client.call('compare.sets', {}),
        this.#client.call('annotators.list', {}),
      ]);
      this.options = options;
      this.sets = sets;
      this.annotators = annotators.filter((a) => !a.simulated && !a.pseudo);
      if (!this.form.checkpoints.length) this.form.checkpoints = [...options.defaults];
      if (!this.form.taskId && options.tasks.length) this.form.taskId = options.tasks[0]!.id;
      const saved = Number(localStorage.getItem(ANNOTATOR_KEY));
      if (this.annotatorId === null && this.annotators.some((a) => a.id === saved)) this.annotatorId = saved;
      if (!this.current && sets.length) await this.open(sets[0]!.id);
      if (!sets.length) this.showForm = true;
    });
  }

  async open(setId: number): Promise<void> {
    await this.#guard(async () => {
      this.current = await this.#client.call('compare.get', { setId });
      this.pair = null;
      this.revealed = null;
      this.blindDone = false;
      if (this.mode === 'blind') await this.nextBlind();
    });
  }

  #reloading = false;
  /** Rows so far, while the job writes them; progress events that arrive mid-reload are skipped. */
  async reload(): Promise<void> {
    const setId = this.current?.set.id;
    if (setId === undefined || this.#reloading) return;
    this.#reloading = true;
    try {
      const view = await this.#guard(() => this.#client.call('compare.get', { setId }));
      if (view && this.current?.set.id === setId) this.current = view;
    } finally {
      this.#reloading = false;
    }
  }

  toggleCheckpoint(id: number): void {
    const on = this.form.checkpoints.includes(id);
    this.form.checkpoints = on ? this.form.checkpoints.filter((x) => x !== id) : [...this.form.checkpoints, id];
  }

  #promptSet(): Input<'compare.start'>['prompts'] {
    const f = this.form;
    if (f.promptKind === 'task') return { kind: 'task', taskId: f.taskId, limit: f.limit };
    if (f.promptKind === 'typed') return { kind: 'typed', texts: f.typed.split('\n').map((t) => t.trim()).filter(Boolean) };
    return { kind: 'split', split: f.split, limit: f.limit };
  }

  async start(): Promise<void> {
    const f = this.form;
    const started = await this.#guard(() =>
      this.#client.call('compare.start', {
        checkpoints: f.checkpoints,
        prompts: this.#promptSet(),
        temperature: f.temperature,
        top_p: f.top_p,
        max_tokens: f.max_tokens,
        seed: f.seed,
        best_of_n: f.best_of_n,
        reward_model: f.scoreWithRm ? (this.options?.rewardModel ?? null) : null,
      }),
    );
    if (!started) return;
    this.showForm = false;
    this.mode = 'table';
    this.job = started.job;
    await this.open(started.set.id);
    const done = await this.#jobs.waitFor(started.job);
    this.job = null;
    if (done.status === 'failed') this.error = `The comparison failed: ${done.error ?? 'unknown error'}`;
    this.sets = await this.#client.call('compare.sets', {});
    if (this.current?.set.id === started.set.id) await this.open(started.set.id);
  }

  /** The live job as the status bar sees it (progress events update it). */
  get liveJob(): JobInfo | null {
    return this.job ? (this.#jobs.get(this.job.id) ?? this.job) : null;
  }

  async cancel(): Promise<void> {
    if (this.job) await this.#guard(() => this.#client.call('jobs.cancel', { id: this.job!.id }));
  }

  chooseAnnotator(id: number): void {
    this.annotatorId = id;
    localStorage.setItem(ANNOTATOR_KEY, String(id));
    void this.nextBlind();
  }

  async createAnnotator(name: string): Promise<void> {
    const a = await this.#guard(() => this.#client.call('annotators.create', { name }));
    if (!a) return;
    this.annotators = [...this.annotators, a];
    this.chooseAnnotator(a.id);
  }

  async nextBlind(): Promise<void> {
    if (!this.current || this.annotatorId === null) return;
    const setId = this.current.set.id;
    const annotatorId = this.annotatorId;
    await this.#guard(async () => {
      this.pair = await this.#client.call('compare.nextBlind', { setId, annotatorId });
      this.blindDone = this.pair === null;
      this.#shownAt = performance.now();
    });
  }

  async vote(outcome: VoteOutcome): Promise<void> {
    const pair = this.pair;
    if (!pair || this.annotatorId === null || !this.current) return;
    this.pair = null; // a second key press must not vote twice
    const seconds = Math.round((performance.now() - this.#shownAt) / 100) / 10;
    const result = await this.#guard(() =>
      this.#client.call('compare.vote', { token: pair.token, outcome, annotatorId: this.annotatorId!, seconds_spent: seconds }),
    );
    if (!result) {
      this.pair = pair;
      return;
    }
    this.revealed = { ...result, prompt: pair.prompt.text };
    this.current = { ...this.current, stats: result.stats, set: { ...this.current.set, votes: this.current.set.votes + 1 } };
    await this.nextBlind();
  }

  async export(format: 'csv' | 'json' | 'trl'): Promise<void> {
    if (!this.current) return;
    const setId = this.current.set.id;
    const out = await this.#guard(() => this.#client.call('compare.export', { setId, format }));
    if (out) downloadText(out.name, out.text, format === 'csv' ? 'text/csv' : 'application/json');
  }

  name(checkpointId: number): string {
    const c = this.current?.checkpoints.find((x) => x.id === checkpointId) ?? this.options?.checkpoints.find((x) => x.id === checkpointId);
    return c ? `#${c.id} ${c.name}` : `#${checkpointId}`;
  }
}

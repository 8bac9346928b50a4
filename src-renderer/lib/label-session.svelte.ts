// The Label view's state: who is labeling, which task, the item on screen and the judgment being
// made (ranking with undo/redo, flags, comment, seconds spent), autosaved as a draft.
import type {
  AnnotatorInfo,
  LabelFlag,
  LabelItemView,
  LabelTaskInfo,
  ResponseSourceInfo,
} from '../../src-main/shared/contract.js';
import type { Client } from './api';
import type { VoteOutcome } from '../../src-main/shared/vocabulary.js';
import * as R from './ranking';

const ANNOTATOR_KEY = 'rlhf-lab.annotator';
const TASK_KEY = 'rlhf-lab.label-task';
/** A comment is autosaved this long after the last key, so typing is one write, not dozens. */
export const AUTOSAVE_MS = 600;

/** The three flags, each one key away (the view's key handler and the checkboxes share this). */
export const FLAG_INFO: { flag: LabelFlag; key: string; label: string }[] = [
  { flag: 'unsafe', key: 'U', label: 'Unsafe' },
  { flag: 'factually_wrong', key: 'W', label: 'Factually wrong' },
  { flag: 'should_say_idk', key: 'I', label: 'Should have said “I don’t know”' },
];

export type SaveState = 'idle' | 'unsaved' | 'saving' | 'saved' | 'error';

export class LabelSession {
  readonly #client: Client;
  annotators = $state.raw<AnnotatorInfo[]>([]);
  /** Set in LAN mode: the invite decides who labels, and the switcher is locked. */
  boundAnnotator = $state.raw<AnnotatorInfo | null>(null);
  annotatorId = $state<number | null>(null);
  tasks = $state.raw<LabelTaskInfo[]>([]);
  taskId = $state<number | null>(null);
  item = $state.raw<LabelItemView | null>(null);
  /** True when the annotator's queue for this task is empty. */
  finished = $state(false);
  loading = $state(false);
  error = $state<string | null>(null);
  /** A passing word on what to do next ("Rank all 4 responses first"): shown a few seconds, then gone. */
  notice = $state<string | null>(null);
  #noticeTimer: ReturnType<typeof setTimeout> | undefined;
  hint(text: string): void {
    this.notice = text;
    clearTimeout(this.#noticeTimer);
    this.#noticeTimer = setTimeout(() => (this.notice = null), 4000);
  }

  ranking = $state.raw<R.RankingState>(R.initial());
  flags = $state.raw<LabelFlag[]>([]);
  comment = $state('');
  /** Display index of the response last placed (highlighted), -1 for none. */
  selected = $state(-1);
  sources = $state.raw<ResponseSourceInfo[] | null>(null);
  vote = $state<VoteOutcome | null>(null);
  saveState = $state<SaveState>('idle');
  /** Set while a label-generate job runs (the task appears when it completes). */
  generating = $state<string | null>(null);

  #secondsBase = 0;
  /** performance.now() when the clock last started; null while the page is hidden. */
  #startedAt: number | null = null;
  #saveTimer: ReturnType<typeof setTimeout> | null = null;
  #inflight: Promise<void> | null = null;
  /** Bumped on every `label.changed` from any annotator: progress panels re-query. */
  version = $state(0);

  constructor(client: Client) {
    this.#client = client;
  }

  get annotator(): AnnotatorInfo | null {
    return this.boundAnnotator ?? this.annotators.find((a) => a.id === this.annotatorId) ?? null;
  }
  get task(): LabelTaskInfo | null {
    return this.tasks.find((t) => t.id === this.taskId) ?? null;
  }
  get submitted(): boolean {
    return this.item?.judgment?.status === 'submitted' || this.vote !== null;
  }

  start(): () => void {
    const offs = [
      this.#client.on('label.changed', () => this.version++),
      this.#client.on('job.done', (job) => {
        if (job.kind !== 'label-generate') return;
        this.generating = null;
        if (job.status === 'failed') this.error = `Generating responses failed: ${job.error ?? 'unknown error'}`;
        const taskId = (job.result as { taskId?: number } | undefined)?.taskId;
        if (job.status === 'completed' && taskId) void this.loadLists().then(() => this.chooseTask(taskId));
      }),
      this.#client.on('data.changed', (d) => {
        if (d.kinds.some((k) => k === 'annotators' || k === 'label_tasks' || k === 'task' || k === 'annotator')) {
          // A task brought back by Undo while none is open opens again.
          void this.loadLists().then(() => (this.taskId === null && this.tasks.length ? this.chooseTask(this.tasks[this.tasks.length - 1]!.id) : undefined));
        }
      }),
    ];
    const flush = () => void this.flushDraft();
    window.addEventListener('pagehide', flush);
    // Time spent counts only while the page is visible (Label Studio's lead_time does the same).
    const visibility = () => this.#pauseClock(document.hidden);
    document.addEventListener('visibilitychange', visibility);
    void this.init();
    return () => {
      offs.forEach((off) => off());
      window.removeEventListener('pagehide', flush);
      document.removeEventListener('visibilitychange', visibility);
      void this.flushDraft();
    };
  }

  async init(): Promise<void> {
    await this.#guard(async () => {
      this.boundAnnotator = await this.#client.call('annotators.me', {});
      await this.loadLists();
      const savedAnnotator = Number(localStorage.getItem(ANNOTATOR_KEY));
      this.annotatorId =
        this.boundAnnotator?.id ?? (this.annotators.some((a) => a.id === savedAnnotator && !a.simulated && !a.pseudo) ? savedAnnotator : null);
      const savedTask = Number(localStorage.getItem(TASK_KEY));
      this.taskId = this.tasks.some((t) => t.id === savedTask) ? savedTask : (this.tasks[this.tasks.length - 1]?.id ?? null);
      await this.loadNext();
    });
  }

  async loadLists(): Promise<void> {
    const [annotators, tasks] = await Promise.all([
      this.#client.call('annotators.list', {}),
      this.#client.call('label.tasks', {}),
    ]);
    this.annotators = annotators;
    this.tasks = tasks;
  }

  async chooseAnnotator(id: number): Promise<void> {
    if (this.boundAnnotator) return;
    await this.flushDraft();
    this.annotatorId = id;
    localStorage.setItem(ANNOTATOR_KEY, String(id));
    await this.loadNext();
  }

  async createAnnotator(name: string, colour: string): Promise<void> {
    const a = await this.#client.call('annotators.create', { name, colour });
    await this.loadLists();
    await this.chooseAnnotator(a.id);
  }

  /** Renames or recolours the current annotator (an invited teammate may change only their own). */
  async updateAnnotator(name: string, colour: string): Promise<void> {
    const id = this.annotator?.id;
    if (id === undefined) return;
    const updated = await this.#client.call('annotators.update', { id, name, colour });
    if (this.boundAnnotator) this.boundAnnotator = updated;
    await this.loadLists();
  }

  async chooseTask(id: number): Promise<void> {
    await this.flushDraft();
    this.taskId = id;
    localStorage.setItem(TASK_KEY, String(id));
    await this.loadNext();
  }

  /** The annotator's next item in the task (a draft first), or the "all done" state. */
  async loadNext(revisitSkipped = false): Promise<void> {
    if (this.taskId === null || this.annotatorId === null) {
      this.#show(null);
      return;
    }
    const taskId = this.taskId;
    const annotatorId = this.annotatorId;
    await this.#guard(async () => this.#show(await this.#client.call('label.next', { taskId, annotatorId, revisitSkipped })));
  }

  async open(itemId: number | null): Promise<void> {
    if (itemId === null || this.annotatorId === null) return;
    await this.flushDraft();
    const annotatorId = this.annotatorId;
    await this.#guard(async () => this.#show(await this.#client.call('label.get', { itemId, annotatorId })));
  }

  #show(view: LabelItemView | null): void {
    this.item = view;
    this.finished = view === null && this.taskId !== null && this.annotatorId !== null;
    this.ranking = R.initial(view?.judgment?.ranking ?? []);
    this.flags = view?.judgment?.flags ?? view?.vote?.flags ?? [];
    this.comment = view?.judgment?.comment ?? view?.vote?.comment ?? '';
    this.sources = view?.sources ?? null;
    this.vote = view?.vote?.outcome ?? null;
    this.selected = -1;
    this.saveState = view?.judgment ? 'saved' : 'idle';
    // Time already spent on this item (a restored draft) keeps counting from where it stopped.
    this.#secondsBase = view?.judgment?.seconds_spent ?? view?.vote?.seconds_spent ?? 0;
    this.#startedAt = document.hidden ? null : performance.now();
    this.error = null;
  }

  seconds(): number {
    const running = this.#startedAt === null ? 0 : (performance.now() - this.#startedAt) / 1000;
    return Math.round((this.#secondsBase + running) * 10) / 10;
  }

  #pauseClock(paused: boolean): void {
    if (paused && this.#startedAt !== null) {
      this.#secondsBase += (performance.now() - this.#startedAt) / 1000;
      this.#startedAt = null;
    } else if (!paused && this.#startedAt === null) {
      this.#startedAt = performance.now();
    }
  }

  // ---------- editing the judgment ----------

  edit(next: R.RankingState): void {
    if (this.submitted && this.item?.task.mode === 'pairwise') return;
    if (next === this.ranking) return;
    this.ranking = next;
    this.#changed();
  }

  /** Key N (1-based display number); with Shift, tie with the last rank. */
  rankByNumber(n: number, tie: boolean): void {
    const r = this.item?.responses[n - 1];
    if (!r) return;
    this.selected = n - 1;
    this.edit(tie ? R.tieWithLast(this.ranking, r.id) : R.placeNext(this.ranking, r.id));
  }

  toggleFlag(flag: LabelFlag): void {
    this.flags = this.flags.includes(flag) ? this.flags.filter((f) => f !== flag) : [...this.flags, flag];
    this.#changed();
  }

  setComment(text: string): void {
    this.comment = text;
    this.#changed(true);
  }

  /**
   * Ranks and flags are single key presses and are saved at once, so closing the window right
   * after one loses nothing; typing a comment is saved AUTOSAVE_MS after the last key.
   */
  #changed(debounce = false): void {
    if (this.item?.task.mode !== 'ranking') return;
    this.saveState = 'unsaved';
    // An edited submission is not a draft: it waits for an explicit resubmit (Enter).
    if (this.item.judgment?.status === 'submitted') return;
    if (this.#saveTimer) clearTimeout(this.#saveTimer);
    this.#saveTimer = null;
    if (debounce) this.#saveTimer = setTimeout(() => void this.flushDraft(), AUTOSAVE_MS);
    else void this.flushDraft();
  }

  /** Writes the pending draft now. Saves run one at a time, so the last state always lands last. */
  async flushDraft(): Promise<void> {
    if (this.#saveTimer) clearTimeout(this.#saveTimer);
    this.#saveTimer = null;
    while (this.#inflight) await this.#inflight;
    const item = this.item;
    if (!item || this.saveState !== 'unsaved' || item.task.mode !== 'ranking' || this.annotatorId === null) return;
    this.saveState = 'saving';
    const save = this.#client.call('label.saveDraft', {
      itemId: item.item.id,
      annotatorId: this.annotatorId,
      ranking: this.ranking.tiers,
      flags: this.flags,
      comment: this.comment,
      seconds_spent: this.seconds(),
    });
    this.#inflight = save.then(
      () => {
        if (this.saveState === 'saving') this.saveState = 'saved';
      },
      (e: unknown) => {
        this.saveState = 'error';
        this.error = `Draft not saved: ${message(e)}`;
      },
    );
    try {
      await this.#inflight;
    } finally {
      this.#inflight = null;
    }
  }

  async submit(): Promise<void> {
    const item = this.item;
    if (!item || this.annotatorId === null || item.task.mode !== 'ranking') return;
    if (!R.isComplete(this.ranking.tiers, item.responses.length)) {
      this.hint(`Rank all ${item.responses.length} responses first (keys 1–${item.responses.length}; Shift+number ties).`);
      return;
    }
    if (this.#saveTimer) clearTimeout(this.#saveTimer);
    const annotatorId = this.annotatorId;
    await this.#guard(async () => {
      const r = await this.#client.call('label.submit', {
        itemId: item.item.id,
        annotatorId,
        ranking: this.ranking.tiers,
        flags: this.flags,
        comment: this.comment,
        seconds_spent: this.seconds(),
      });
      this.sources = r.sources;
      this.saveState = 'saved';
      await this.#refresh(item.item.id, annotatorId);
    });
  }

  async skip(): Promise<void> {
    const item = this.item;
    if (!item || this.annotatorId === null || this.submitted) return;
    if (this.#saveTimer) clearTimeout(this.#saveTimer);
    const annotatorId = this.annotatorId;
    await this.#guard(async () => {
      // A skip keeps the partial ranking, so it is saved first.
      if (this.saveState === 'unsaved') await this.flushDraft();
      const r = await this.#client.call('label.skip', { itemId: item.item.id, annotatorId, seconds_spent: this.seconds() });
      this.saveState = 'idle';
      if (r.next === null) this.#show(null);
      else await this.open(r.next);
    });
  }

  async castVote(outcome: VoteOutcome): Promise<void> {
    const item = this.item;
    if (!item || this.annotatorId === null || item.task.mode !== 'pairwise' || this.vote) return;
    const annotatorId = this.annotatorId;
    await this.#guard(async () => {
      const r = await this.#client.call('label.vote', {
        itemId: item.item.id,
        annotatorId,
        outcome,
        flags: this.flags,
        comment: this.comment,
        seconds_spent: this.seconds(),
      });
      this.vote = r.outcome;
      this.sources = r.sources;
      await this.#refresh(item.item.id, annotatorId);
    });
  }

  /** After a judgment: the item's queue counts and task totals, keeping what is on screen. */
  async #refresh(itemId: number, annotatorId: number): Promise<void> {
    const [view] = await Promise.all([this.#client.call('label.get', { itemId, annotatorId }), this.loadLists()]);
    if (this.item?.item.id === itemId) this.item = view;
  }

  /** After a submission: the next item in the queue. */
  async advance(): Promise<void> {
    await this.loadNext();
  }

  async #guard(fn: () => Promise<void>): Promise<void> {
    this.loading = true;
    try {
      await fn();
    } catch (e) {
      this.error = message(e);
    } finally {
      this.loading = false;
    }
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// The one API contract between the renderer and the main process.
// Every method has a zod schema for its input (validated at the boundary, in both transports)
// and a TypeScript type for its output. The renderer imports this file with `import type` only.
// Bound twice: to Electron IPC (api/ipc.ts) and to HTTP + WebSocket (server.ts).
import { z } from 'zod';
import { deletableKindSchema, demoRlMethodSchema, exportKindSchema, importKindSchema, labelFlagSchema, labelModeSchema, runStageSchema, splitSchema, voteOutcomeSchema } from './vocabulary.js';
import type { CheckpointStage, DemoRlMethod, LabelFlag, LabelMode, RunStage, Split, VoteOutcome } from './vocabulary.js';

export type ApiError = { message: string; code: string; details?: unknown };
export type Result<T> = { ok: true; value: T } | { ok: false; error: ApiError };

interface MethodSpec<I extends z.ZodType, O> {
  input: I;
  /** Phantom: only its type is used. */
  output?: O;
}
function method<O>() {
  return <I extends z.ZodType>(input: I): MethodSpec<I, O> => ({ input });
}
const none = z.object({}).strict();
const id = z.number().int().positive();
const deleteTarget = z.object({ kind: deletableKindSchema, id }).strict();
const split = splitSchema;

// ---------- shared shapes (outputs) ----------
export interface ProjectInfo {
  path: string;
  name: string;
  isDemo: boolean;
  schemaVersion: number;
  /** Why the project can only be viewed (read-only file or folder); null when it can be edited. */
  readOnly: string | null;
}
export interface ProjectStats {
  prompts: number;
  responses: number;
  rankings: number;
  pairs: number;
  comparisons: number;
  sft_examples: number;
  checkpoints: number;
  runs: number;
  annotators: number;
}
export interface Page<T> {
  rows: T[];
  total: number;
  offset: number;
}
export interface PromptRow {
  id: number;
  text: string;
  split: Split;
  responses: number;
  rankings: number;
}
export interface PairRow {
  prompt_id: number;
  prompt: string;
  chosen: string;
  rejected: string;
  annotator: string;
  /** Where the pair comes from: a ranking, or an A/B vote (what deleting the pair deletes). */
  ranking_id: number | null;
  comparison_id: number | null;
}
export interface DeletePreviewInfo {
  label: string;
  dependents: { table: string; count: number; effect: 'deleted' | 'unlinked'; what: string }[];
}
export interface TrashEntryInfo {
  id: number;
  label: string;
  kind: string;
  recordId: number;
  deletedAt: number;
  dependents: { table: string; count: number; effect: 'deleted' | 'unlinked' }[];
}
export interface SftRow {
  id: number;
  kind: 'completion' | 'messages' | 'text';
  prompt: string | null;
  completion: string | null;
  text: string | null;
  split: Split;
}
export interface ImportResult {
  imported: number;
  skipped: number;
}
export interface JobInfo {
  id: string;
  kind: string;
  label: string;
  status: 'running' | 'completed' | 'failed' | 'cancelled';
  progress: JobProgress | null;
  error?: string;
  result?: unknown;
  /** The compute backend the job's engine ran on, for a job that started the engine (generation, training, model creation). */
  backend?: string;
}
export interface JobProgress {
  done: number;
  total: number;
  /** e.g. 'lines', 'steps', 'tokens' */
  unit: string;
  message?: string;
  etaSeconds?: number;
  rate?: number;
  /** Training jobs: the run they write, once it exists (so the Train view can follow and stop it). */
  runId?: number;
  /** Resident memory of the engine process, in MB. */
  memoryMb?: number;
  /**
   * A job made of named phases in order (the demo: sft, labels, rm, each RL method, compare):
   * `done` counts the phases finished plus the current one's fraction, `total` is their number.
   */
  phases?: string[];
}

// ---------- train (issue 7) ----------
/** Where a field sits in the New run form: the essentials first, the stage's own settings, the rest collapsed. */
export type FieldGroup = 'essentials' | 'stage' | 'lora' | 'advanced';
export interface ConfigField {
  key: string;
  type: 'integer' | 'number' | 'boolean' | 'string' | 'enum';
  default: unknown;
  optional: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  options?: string[];
  description?: string;
  /** How the form presents it (from the stage's catalogue entry): a label a person reads, one line of help, its group. */
  label: string;
  help: string;
  group: FieldGroup;
}
export interface StageInfo {
  stage: RunStage;
  label: string;
  /** One line on what the stage does, under the stage picker. */
  summary: string;
  /** The stage's colour (CSS), the same on every badge and chip. */
  colour: string;
  /** The field that sets how long a run is (iterations, max steps), if the schema leaves it unbounded: the form asks before an absurd length. */
  lengthField?: string;
  /** Stages whose checkpoints this stage may start from. */
  from: string[];
  /** Config keys that name a checkpoint (e.g. PPO's reward_model), with the stage it must have. */
  checkpointFields: Record<string, string>;
  fields: ConfigField[];
  /** Named sets of config values the form can fill in (e.g. the demo's settings for the stage). */
  presets: { name: string; description: string; config: Record<string, unknown> }[];
}
export interface RunInfo {
  id: number;
  stage: RunStage;
  name: string;
  status: 'pending' | 'running' | 'stopped' | 'completed' | 'failed';
  step: number;
  total_steps: number | null;
  backend: string | null;
  error: string | null;
  parent_checkpoint_id: number | null;
  parent_name: string | null;
  config: Record<string, unknown>;
  tags: string[];
  note: string;
  created_at: number;
  updated_at: number;
  /** The live job writing this run, if any. */
  job: JobInfo | null;
  /** Who holds the run's training lease ("rlhf-lab train-sft (pid 12 on box)"), this process or another; null when nobody trains it. */
  owner: string | null;
  last: Record<string, number>;
}
export interface LineageNode {
  id: number;
  name: string;
  stage: string;
  parent_id: number | null;
  run_id: number | null;
  step: number;
  created_at: number;
}
export interface Series {
  step: number[];
  value: number[];
  time: number[];
}
export interface RunSample {
  id: number;
  step: number;
  prompt: string;
  response: string;
  score: number | null;
  kl: number | null;
  /** RLOO and GRPO: the completion's group (the answers to one prompt, shown together) and its advantage. */
  group?: number;
  advantage?: number;
}
export interface RunEventInfo {
  id: number;
  step: number;
  kind: string;
  message: string;
  data: unknown;
  time: number;
}

export interface InviteInfo {
  /** sha256 of the token: identifies the invite without revealing it. */
  id: string;
  annotatorId: number;
  annotator: string;
  createdAt: number;
  revokedAt: number | null;
}


// ---------- labeling (issue 6): input pieces and output shapes ----------
const seconds = z.number().min(0).max(7 * 24 * 3600).default(0);
const annotatorName = z.string().trim().min(1).max(80);
const colour = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'a colour like #4f7cff');
const judgmentInput = z
  .object({
    itemId: id,
    annotatorId: id.optional(),
    /** Tiers of response ids, best first; ids in one tier are tied. */
    ranking: z.array(z.array(id).max(9)).max(9),
    flags: z.array(labelFlagSchema).max(3).default([]),
    comment: z.string().max(10_000).default(''),
    seconds_spent: seconds,
  })
  .strict();
export interface AnnotatorInfo {
  id: number;
  name: string;
  colour: string;
  simulated: boolean;
  /** Not a person (the annotator imports credit): no one labels as it, and progress leaves it out. */
  pseudo: boolean;
  created_at: number;
}
export interface LabelTaskInfo {
  id: number;
  name: string;
  mode: LabelMode;
  k: number;
  min_annotators: number;
  items: number;
  /** Items with min_annotators submissions. */
  done: number;
  /** The task's first item, to look through items that are already done. */
  first_item: number | null;
  created_at: number;
}
export interface ResponseSourceInfo {
  id: number;
  /** e.g. 'imported', 'human', 'checkpoint sft-final (step 300)' */
  label: string;
  checkpoint_id: number | null;
}
export interface LabelJudgment {
  status: 'draft' | 'submitted' | 'skipped';
  ranking: number[][];
  flags: LabelFlag[];
  comment: string;
  seconds_spent: number;
  updated_at: number;
}
export interface LabelItemView {
  task: { id: number; name: string; mode: LabelMode; k: number; min_annotators: number };
  item: { id: number; position: number; total: number; prev: number | null; next: number | null };
  annotatorId: number;
  prompt: { id: number; text: string };
  /** In display order. */
  responses: { id: number; text: string }[];
  judgment: LabelJudgment | null;
  vote: { outcome: VoteOutcome; flags: LabelFlag[]; comment: string; seconds_spent: number } | null;
  /** Revealed once this annotator's judgment is in; null before. */
  sources: ResponseSourceInfo[] | null;
  queue: { pending: number; draft: number; submitted: number; skipped: number };
}
export interface LabelProgress {
  task: LabelTaskInfo;
  overall: { items: number; done: number; submissions: number; conflicts: number };
  annotators: {
    id: number;
    name: string;
    colour: string;
    /** The demo's rubric annotators: shown as simulated, never as people. */
    simulated: boolean;
    pending: number;
    draft: number;
    submitted: number;
    skipped: number;
    median_seconds: number | null;
  }[];
  conflicts: { itemId: number; position: number; prompt: string; annotators: string[]; disagreement: number }[];
}
export type AgreementReading = 'reliable' | 'tentative' | 'unreliable' | 'undefined';
export interface LabelAgreement {
  metric: 'ordinal' | 'nominal';
  alpha: number | null;
  reading: AgreementReading;
  /** Items judged by at least two annotators. */
  items: number;
  pairs: { a: string; b: string; kappa: number | null; n: number; reading: AgreementReading }[];
}
export interface ItemJudgment {
  annotator: string;
  colour: string;
  status: 'draft' | 'submitted' | 'skipped';
  /** Rankings in display numbers, best first, e.g. "3 > 1 = 4 > 2"; pairwise: "A better", "tie", … */
  order: string;
  flags: LabelFlag[];
  comment: string;
  seconds_spent: number;
}
export interface BundleImportResult {
  annotators: number;
  rankings: number;
  votes: number;
  /** Judgments already present (same uid, or the same annotator already judged that item), left as they are. */
  duplicates: number;
  prompts: number;
  responses: number;
}

// ---------- models (issue 3, engine-I) ----------
export interface CheckpointRow {
  id: number;
  name: string;
  stage: CheckpointStage;
  parent_id: number | null;
  /** Ancestor ids, parent first. */
  lineage: number[];
  run_id: number | null;
  step: number;
  created_at: number;
  /** The model's config: GPT-2's (vocab_size, n_positions, n_embd, n_layer, n_head, …) or a Llama family's (family: 'llama'). */
  model_config: Record<string, unknown>;
  /** Hugging Face model_type: gpt2, llama, qwen2 or mistral. */
  family: string;
  parameters: number;
  weights_bytes: number;
  /** The dtype the weights had where they were imported from ("BF16"); null for models made or trained here (float32). */
  source_dtype: string | null;
  /** The LoRA adapter this checkpoint holds, as its metadata records it; null: full weights. */
  adapter: { r?: number; alpha?: number; targets?: string[]; base?: number } | null;
  /** The root of its lineage (itself for a base) and where that model came from: a folder, hf:OWNER/NAME@commit, or null (created here). */
  base: { id: number; name: string; imported_from: string | null };
  has_optimizer: boolean;
  /** Final metrics of the run that wrote it, when it has any. */
  metrics: Record<string, number>;
}
/** A model snapshot in the local Hugging Face cache (`models.cached`). */
export interface CachedModelRow {
  /** OWNER/NAME. */
  repo: string;
  commit: string;
  /** Refs pointing at it, e.g. ["main"]. */
  refs: string[];
  /** hf:OWNER/NAME@<commit>, what `models.import` takes to import it without a download. */
  source: string;
  folder: string;
  model_type: string | null;
  /** Null when importable; else why not. */
  problem: string | null;
  bytes: number;
  dtype: string | null;
  modified_at: number;
}
export interface BackendStatus {
  name: string | null;
  reason: string;
}
export interface GenerateOutput {
  texts: string[];
  finished: boolean[];
  tokens: number;
  tokens_per_second: number;
  backend: string;
}

// ---------- compare (issue 8): side by side, blind votes, statistics, export ----------
const comparePrompts = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('split'), split, limit: z.number().int().min(1).max(2000).default(50) }).strict(),
  z.object({ kind: z.literal('task'), taskId: id, limit: z.number().int().min(1).max(2000).default(50) }).strict(),
  /** Typed prompts are added to the project's eval split (source 'compare'). */
  z.object({ kind: z.literal('typed'), texts: z.array(z.string().trim().min(1).max(20_000)).min(1).max(200) }).strict(),
]);
export type ComparePromptSet = z.input<typeof comparePrompts>;
export interface CompareCheckpoint {
  id: number;
  name: string;
  stage: CheckpointStage;
  step: number;
  created_at: number;
}
export interface CompareOptions {
  /** Policies (every stage but reward models), oldest first. */
  checkpoints: CompareCheckpoint[];
  /** The latest SFT and the latest PPO/DPO checkpoint, when the project has them. */
  defaults: number[];
  rewardModels: CompareCheckpoint[];
  /** The latest reward model: scores every response. */
  rewardModel: number | null;
  tasks: { id: number; name: string; items: number }[];
  prompts: { train: number; eval: number };
}
export interface CompareSettings {
  checkpoints: number[];
  prompts: { kind: 'split'; split: Split; limit: number } | { kind: 'task'; taskId: number; limit: number } | { kind: 'typed'; count: number };
  prompt_ids: number[];
  temperature: number;
  top_p: number;
  max_tokens: number;
  seed: number;
  best_of_n: number;
  reward_model: number | null;
}
export interface CompareSetInfo {
  id: number;
  name: string;
  status: 'running' | 'completed' | 'cancelled' | 'failed';
  error: string | null;
  created_at: number;
  /** Responses stored (prompts × checkpoints when complete). */
  rows: number;
  votes: number;
  settings: CompareSettings;
}
export interface CompareCell {
  checkpoint_id: number;
  response_id: number | null;
  text: string;
  /** Reward-model score; null without a reward model. */
  score: number | null;
  /** Sum over the response's tokens of log π − log π_ref (0 for the reference). */
  kl: number | null;
  tokens: number;
  seed: number;
}
export interface ComparePromptRow {
  prompt_id: number;
  prompt: string;
  /** In the comparison's checkpoint order; null where that checkpoint has not answered yet. */
  cells: (CompareCell | null)[];
  /** Whether the responses' texts are not all the same. */
  differ: boolean;
  /** Highest minus lowest score across checkpoints. */
  gap: number | null;
}
/** b against a: a tie (and, for votes, "both bad") counts ½; null rates when there is nothing to count. */
export interface CompareWinRate {
  a: number;
  b: number;
  n: number;
  wins: number;
  losses: number;
  ties: number;
  win_rate: number | null;
  ci_low: number | null;
  ci_high: number | null;
}
export interface CompareLeaderboard {
  rows: { rank: number; checkpoint_id: number; name: string; stage: string; rating: number; ci_low: number; ci_high: number; battles: number; win_rate: number }[];
  votes: number;
  checkpoints: number;
  /** Below this many battles a checkpoint's interval says little. */
  few: number;
}
export interface CompareRating {
  checkpoint_id: number;
  /** Chatbot Arena's scale: 1000 + 400·log10(strength). */
  rating: number;
  ci_low: number | null;
  ci_high: number | null;
  battles: number;
}
export interface CompareStatsSide {
  /** Every other checkpoint against the reference (the first). */
  pairs: CompareWinRate[];
  /** Bradley–Terry with bootstrap intervals, best first; null for two checkpoints. */
  ratings: CompareRating[] | null;
}
export interface CompareStats {
  /** By the reward model's scores; null when the comparison has none. */
  rm: CompareStatsSide | null;
  human: CompareStatsSide & { votes: number };
}
export interface CompareSetView {
  set: CompareSetInfo;
  checkpoints: CompareCheckpoint[];
  rows: ComparePromptRow[];
  stats: CompareStats;
}
/** A blind pair: no checkpoint ids; `token` names it for compare.vote. */
export interface BlindPair {
  token: string;
  prompt: { id: number; text: string };
  a: string;
  b: string;
  /** Pairs this annotator has not judged yet, this one included. */
  remaining: number;
  voted: number;
}
export interface BlindVoteResult {
  outcome: VoteOutcome;
  revealed: { a: CompareCheckpoint; b: CompareCheckpoint };
  stats: CompareStats;
}

// ---------- demo: the whole loop with RL methods side by side (issue 17) ----------
/** One row of the demo's method table (demo/method-table.ts): an RL method or a best-of-N baseline. */
export interface DemoMethodRow {
  seed: number;
  /** 'ppo', 'rloo', 'grpo', or 'best-of-N' (no training: the SFT model's N samples, the reward model's pick). */
  method: DemoRlMethod | `best-of-${number}`;
  /** Gold win rate over the same SFT replies, with its 95% bootstrap interval. */
  win_rate: number;
  ci_low: number;
  ci_high: number;
  mean_gold: number | null;
  /** Nats per response token to SFT on the judged prompts (null for best-of-N, which samples SFT itself). */
  kl: number | null;
  peak_rss_mb: number | null;
  seconds: number | null;
}
/** The last demo run on the project: its settings and the method table. */
export interface DemoRunView {
  seed: number;
  quick: boolean;
  judged_on: 'eval' | 'validation';
  /** Prompts each method was judged on. */
  n: number;
  backend: string;
  seconds: number;
  /** SFT's mean gold score on the judged prompts (the baseline every row is judged against). */
  sft_mean_gold: number | null;
  rows: DemoMethodRow[];
}
export interface DemoStateView {
  /** Whether the open project is the demo project (only its rubric gives a gold score). */
  demo: boolean;
  methods: readonly DemoRlMethod[];
  last: DemoRunView | null;
  /** The demo job now running on this project, if any. */
  job: JobInfo | null;
}

// ---------- methods ----------
// Sections are owned by features; add methods to your section.
export const methods = {
  // --- app & project ---
  'app.info': method<{ version: string; backend: string | null; recentProjects: string[]; demoPath: string | null }>()(none),
  'project.current': method<ProjectInfo | null>()(none),
  'project.create': method<ProjectInfo>()(z.object({ path: z.string().min(1).max(4096) }).strict()),
  'project.open': method<ProjectInfo>()(z.object({ path: z.string().min(1).max(4096) }).strict()),
  'project.openDemo': method<ProjectInfo>()(none),
  'project.stats': method<ProjectStats>()(none),

  // --- data: import, browse, export ---
  'data.import': method<JobInfo>()(
    z
      .object({
        file: z.string().min(1).max(4096),
        as: importKindSchema,
        split: split.optional(),
      })
      .strict(),
  ),
  /** Browser mode cannot hand the server a path: the file's text is uploaded instead. */
  'data.importText': method<JobInfo>()(
    z
      .object({
        name: z.string().min(1).max(255),
        text: z.string().max(64 * 1024 * 1024),
        as: importKindSchema,
        split: split.optional(),
      })
      .strict(),
  ),
  'data.export': method<{ path: string; count: number }>()(
    z.object({ file: z.string().min(1).max(4096), as: exportKindSchema, format: z.enum(['trl', 'hh']).optional() }).strict(),
  ),
  'data.exportText': method<{ name: string; text: string; count: number }>()(
    z.object({ as: exportKindSchema, format: z.enum(['trl', 'hh']).optional() }).strict(),
  ),
  'data.prompts': method<Page<PromptRow>>()(
    z
      .object({
        search: z.string().max(1000).optional(),
        split: split.optional(),
        offset: z.number().int().min(0).default(0),
        limit: z.number().int().min(1).max(500).default(50),
      })
      .strict(),
  ),
  'data.pairs': method<Page<PairRow>>()(
    z
      .object({
        search: z.string().max(1000).optional(),
        offset: z.number().int().min(0).default(0),
        limit: z.number().int().min(1).max(500).default(50),
      })
      .strict(),
  ),
  'data.sft': method<Page<SftRow>>()(
    z
      .object({
        search: z.string().max(1000).optional(),
        offset: z.number().int().min(0).default(0),
        limit: z.number().int().min(1).max(500).default(50),
      })
      .strict(),
  ),
  /** `source` and `checkpoint_id` are null for an invited teammate: which model wrote a response stays hidden from labelers. */
  'data.responses': method<{ id: number; text: string; source: string | null; checkpoint_id: number | null }[]>()(
    z.object({ promptId: id }).strict(),
  ),
  /** What deleting a record takes with it, in words, before it is deleted. */
  'data.deletePreview': method<DeletePreviewInfo>()(deleteTarget),
  /** Deletes a record and its dependents; restorable with data.restore until the project is closed. */
  'data.delete': method<TrashEntryInfo>()(deleteTarget),
  'data.trash': method<TrashEntryInfo[]>()(none),
  'data.restore': method<TrashEntryInfo>()(z.object({ trashId: id }).strict()),

  // --- jobs: long work in the engine worker ---
  'jobs.list': method<JobInfo[]>()(none),
  'jobs.cancel': method<JobInfo>()(z.object({ id: z.string().min(1).max(100) }).strict()),

  // --- invites: LAN access for teammates (browser mode with --lan); local user only ---
  /** `url` is the invite link when this process serves on the LAN, else null. */
  'invites.create': method<{ token: string; id: string; url: string | null }>()(z.object({ annotatorId: id }).strict()),
  'invites.list': method<InviteInfo[]>()(none),
  'invites.revoke': method<{ revoked: boolean }>()(z.object({ id: z.string().regex(/^[0-9a-f]{64}$/) }).strict()),

  // --- labeling: annotators, tasks, judgments, progress, agreement, guidelines, bundles (issue 6) ---
  // `annotatorId` names the local user's chosen profile; in LAN mode the caller's invite decides
  // and a different annotatorId is refused.
  'annotators.list': method<AnnotatorInfo[]>()(none),
  'annotators.create': method<AnnotatorInfo>()(
    z.object({ name: annotatorName, colour: colour.optional() }).strict(),
  ),
  'annotators.update': method<AnnotatorInfo>()(
    z.object({ id, name: annotatorName.optional(), colour: colour.optional() }).strict(),
  ),
  /** Annotators bound to LAN invites see their own profile here. */
  'annotators.me': method<AnnotatorInfo | null>()(none),
  'label.tasks': method<LabelTaskInfo[]>()(none),
  'label.createTask': method<{ task: LabelTaskInfo; short: number }>()(
    z
      .object({
        name: z.string().trim().min(1).max(200),
        mode: labelModeSchema,
        k: z.number().int().min(2).max(9).default(4),
        minAnnotators: z.number().int().min(1).max(50).default(1),
        split: split.optional(),
        promptIds: z.array(id).min(1).max(100_000).optional(),
        checkpointIds: z.array(id).max(9).optional(),
        limit: z.number().int().min(1).max(100_000).optional(),
        seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
      })
      .strict(),
  ),
  /** Generates K responses per prompt with the chosen checkpoints (a job), then creates the task. */
  'label.generateTask': method<JobInfo>()(
    z
      .object({
        name: z.string().trim().min(1).max(200),
        mode: labelModeSchema,
        k: z.number().int().min(2).max(9).default(4),
        minAnnotators: z.number().int().min(1).max(50).default(1),
        split: split.optional(),
        limit: z.number().int().min(1).max(10_000).default(50),
        checkpointIds: z.array(id).min(1).max(9),
        temperature: z.number().min(0.05).max(2).default(1),
        topK: z.number().int().min(0).max(1000).default(0),
        topP: z.number().gt(0).max(1).default(1),
        maxTokens: z.number().int().min(1).max(1024).default(64),
        seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
      })
      .strict(),
  ),
  /** With `revisitSkipped`, items you skipped come after the pending ones. */
  'label.next': method<LabelItemView | null>()(
    z.object({ taskId: id, annotatorId: id.optional(), revisitSkipped: z.boolean().default(false) }).strict(),
  ),
  'label.get': method<LabelItemView>()(z.object({ itemId: id, annotatorId: id.optional() }).strict()),
  'label.saveDraft': method<{ status: 'draft' | 'submitted' | 'skipped'; updated_at: number }>()(judgmentInput),
  'label.submit': method<{ judgment: LabelJudgment; sources: ResponseSourceInfo[]; next: number | null }>()(judgmentInput),
  'label.skip': method<{ next: number | null }>()(
    z.object({ itemId: id, annotatorId: id.optional(), seconds_spent: seconds }).strict(),
  ),
  /** Pairwise: the sources behind A and B are in the answer, never before the vote. */
  'label.vote': method<{ outcome: VoteOutcome; created: boolean; sources: ResponseSourceInfo[]; next: number | null }>()(
    z
      .object({
        itemId: id,
        annotatorId: id.optional(),
        outcome: voteOutcomeSchema,
        flags: z.array(labelFlagSchema).max(3).default([]),
        comment: z.string().max(10_000).default(''),
        seconds_spent: seconds,
      })
      .strict(),
  ),
  'label.progress': method<LabelProgress>()(z.object({ taskId: id }).strict()),
  /** Everyone's judgment of one item, for reviewing a conflict (host only: it would bias annotators). */
  'label.itemJudgments': method<ItemJudgment[]>()(z.object({ itemId: id }).strict()),
  'label.agreement': method<LabelAgreement>()(z.object({ taskId: id }).strict()),
  'guidelines.get': method<{ markdown: string; updated_at: number | null }>()(none),
  'guidelines.set': method<{ markdown: string; updated_at: number }>()(z.object({ markdown: z.string().max(200_000) }).strict()),
  /** Annotators and their judgments as one JSON text (see docs/cli.md, "label"). */
  'label.exportBundle': method<{ name: string; text: string; rankings: number; votes: number; annotators: number }>()(none),
  'label.importBundle': method<BundleImportResult>()(z.object({ text: z.string().min(2).max(256 * 1024 * 1024) }).strict()),

  // --- train: start/stop/resume runs of every stage, live curves, samples, lineage (issue 7) ---
  'train.stages': method<StageInfo[]>()(none),
  /** Field-by-field errors for the config form; `resolved` is the config with defaults filled in. */
  'train.validate': method<{ errors: Record<string, string>; resolved: Record<string, unknown> | null }>()(
    z.object({ stage: runStageSchema, config: z.record(z.string(), z.unknown()) }).strict(),
  ),
  'train.start': method<JobInfo>()(
    z
      .object({
        stage: runStageSchema,
        from: id,
        config: z.record(z.string(), z.unknown()).default({}),
        name: z.string().trim().min(1).max(200).optional(),
      })
      .strict(),
  ),
  'train.stop': method<{ stopped: boolean }>()(z.object({ runId: id }).strict()),
  'train.resume': method<JobInfo>()(z.object({ runId: id }).strict()),
  'runs.list': method<RunInfo[]>()(none),
  /** The notebook: rename a run, set its tags, write its note (host only). */
  'runs.annotate': method<{ updated: boolean }>()(
    z
      .object({
        runId: id,
        name: z.string().trim().min(1).max(200).optional(),
        tags: z.array(z.string().trim().min(1).max(40)).max(20).optional(),
        note: z.string().max(20_000).optional(),
      })
      .strict(),
  ),
  /** Series per run and key; `since` gives, per run id, the last step the caller already has. */
  'runs.metrics': method<Record<string, Record<string, Series>>>()(
    z.object({ runIds: z.array(id).min(1).max(20), since: z.record(z.string(), z.number().int()).default({}) }).strict(),
  ),
  'runs.samples': method<RunSample[]>()(z.object({ runId: id }).strict()),
  'runs.events': method<RunEventInfo[]>()(z.object({ runId: id }).strict()),
  'runs.exportCsv': method<{ name: string; text: string; rows: number }>()(z.object({ runId: id }).strict()),
  'train.lineage': method<{ checkpoints: LineageNode[] }>()(none),

  // --- models: checkpoints with lineage, new/import/export/delete, playground (issue 3, engine-I) ---
  'models.list': method<{ checkpoints: CheckpointRow[]; backend: BackendStatus }>()(none),
  // new/import/export run as jobs in the engine worker (whole weight files, tokenizer training);
  // `job.done`'s `result` is { checkpoint, vocab_size, parameters } / { checkpoint } / { folder, files }.
  /** A new tiny model: a tokenizer trained on the project's texts and random weights (stage 'base'). */
  'models.new': method<JobInfo>()(
    z
      .object({
        n_layer: z.number().int().min(1).max(48),
        n_head: z.number().int().min(1).max(64),
        n_embd: z.number().int().min(8).max(4096),
        n_positions: z.number().int().min(8).max(4096),
        vocab_size: z.number().int().min(512).max(8192),
        seed: z.number().int().min(0).default(0),
        name: z.string().trim().min(1).max(200).optional(),
      })
      .strict(),
  ),
  /** The model snapshots in the local Hugging Face cache ($HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub). */
  'models.cached': method<{ cache_dir: string; models: CachedModelRow[]; skipped: string[] }>()(none),
  /**
   * A model from a local Hugging Face folder (gpt2, llama, qwen2, mistral: config.json, weights,
   * tokenizer) or a Hub id hf:OWNER/NAME[@revision]. The job's progress counts bytes while
   * downloading, then tensors while converting.
   */
  'models.import': method<JobInfo>()(
    /** `adapter`: a PEFT LoRA folder to import on the base `folder`, as its own checkpoint (the job's result). */
    z.object({ folder: z.string().min(1).max(4096), name: z.string().trim().min(1).max(200).optional(), adapter: z.string().min(1).max(4096).optional() }).strict(),
  ),
  'models.export': method<JobInfo>()(
    /** `merged`: a LoRA adapter checkpoint as a full model (W + (alpha/r)·(B·A)ᵀ) instead of a PEFT folder. */
    z.object({ checkpoint: id, folder: z.string().min(1).max(4096), merged: z.boolean().optional() }).strict(),
  ),
  'models.delete': method<{ deleted: boolean }>()(z.object({ checkpoint: id }).strict()),
  /**
   * Samples in the engine worker. The returned job streams the first sample's text so far as
   * `progress.message` of its `job.progress` events; `job.done`'s `result` is a GenerateOutput.
   */
  'models.generate': method<JobInfo>()(
    z
      .object({
        checkpoint: id,
        prompt: z.string().max(100_000),
        temperature: z.number().min(0).max(10).default(0.7),
        top_k: z.number().int().min(0).default(0),
        top_p: z.number().gt(0).max(1).default(1),
        max_tokens: z.number().int().min(1).max(4096).default(64),
        seed: z.number().int().min(0).default(0),
        n: z.number().int().min(1).max(16).default(1),
        /** Wrap the prompt as a user turn and let the model answer as the assistant. */
        chat: z.boolean().default(false),
      })
      .strict(),
  ),

  // --- compare: side-by-side generation as a job, blind votes, statistics, export (issue 8) ---
  'compare.options': method<CompareOptions>()(none),
  /** Starts the `compare` job; `job.done`'s `result` is { setId, rows }. Host only. */
  'compare.start': method<{ set: CompareSetInfo; job: JobInfo }>()(
    z
      .object({
        /** The reference (KL is measured against it) first; default: latest SFT, latest PPO/DPO. */
        checkpoints: z.array(id).min(2).max(8).optional(),
        prompts: comparePrompts.default({ kind: 'split', split: 'eval', limit: 50 }),
        temperature: z.number().min(0).max(2).default(0.7),
        top_p: z.number().gt(0).max(1).default(1),
        max_tokens: z.number().int().min(1).max(1024).default(48),
        seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
        /** 1: plain sampling; more: best of N samples by the reward model. */
        best_of_n: z.number().int().min(1).max(64).default(1),
        /** Default: the latest reward model (null: no scores). */
        reward_model: id.nullable().optional(),
        name: z.string().trim().min(1).max(200).optional(),
      })
      .strict(),
  ),
  'compare.sets': method<CompareSetInfo[]>()(none),
  'compare.get': method<CompareSetView>()(z.object({ setId: id }).strict()),
  'compare.stats': method<CompareStats>()(z.object({ setId: id }).strict()),
  /** Bradley–Terry ratings over every blind vote of the project, once three or more checkpoints have votes. */
  'compare.leaderboard': method<CompareLeaderboard>()(none),
  /** null when this annotator has judged every pair of the comparison. */
  'compare.nextBlind': method<BlindPair | null>()(z.object({ setId: id, annotatorId: id.optional() }).strict()),
  'compare.vote': method<BlindVoteResult>()(
    z.object({ token: z.string().uuid(), outcome: voteOutcomeSchema, annotatorId: id.optional(), seconds_spent: seconds }).strict(),
  ),
  /** csv/json: the comparison's rows; trl: the blind votes as {"prompt","chosen","rejected"} JSONL (ties and both-bad give none). */
  'compare.export': method<{ name: string; text: string; count: number }>()(
    z.object({ setId: id, format: z.enum(['csv', 'json', 'trl']) }).strict(),
  ),
  // Reward hacking as it starts (api/handlers/reward-hacking.ts): a PPO run's checkpoints judged against
  // SFT by the reward model and by gold/human judges; the demo's over-optimisation curves.
  'compare.checkpointJudges': method<CheckpointJudgesView | null>()(z.object({ runId: id }).strict()),
  'compare.judgeCheckpoints': method<JobInfo>()(z.object({ runId: id }).strict()),
  'compare.overoptimization': method<{ demo: boolean; report: OveroptimizationView | null; baselines: DemoBaselinesView | null }>()(none),
  'compare.startOveroptimization': method<JobInfo>()(none),

  // --- demo (issue 17) ---
  'demo.state': method<DemoStateView>()(none),
  'demo.start': method<JobInfo>()(
    z
      .object({
        rl: z.array(demoRlMethodSchema).min(1).refine((x) => new Set(x).size === x.length, 'Each RL method once.'),
        seed: z.number().int().min(0).max(1_000_000_000),
        quick: z.boolean().default(true),
      })
      .strict(),
  ),
} as const;

/** One checkpoint of a PPO run against its SFT model (win rates: a tie counts ½). */
export interface CheckpointJudgementView {
  step: number;
  checkpoint: number;
  /** Mean over replies of KL(π‖π_SFT) summed over the reply's tokens (nats; the estimate can dip below 0), and √ of its positive part. */
  kl: number;
  sqrt_kl: number;
  /** Mean reward-model score (normalised) and, on the demo project, mean gold score. */
  rm: number;
  gold: number | null;
  /** Win rates over the SFT reply to the same prompt (a tie counts ½). */
  rm_win_rate: number;
  gold_win_rate: number | null;
  /** From the blind votes between this checkpoint and SFT, when there are any. */
  human_win_rate: number | null;
  human_votes: number;
}
export interface CheckpointJudgesView {
  run: number;
  sft: number;
  rm: number;
  prompts: number;
  gold: boolean;
  points: CheckpointJudgementView[];
}
/** The last demo run's PPO gold win rate over SFT beside best-of-N from SFT (same prompts, gold judge). */
export interface DemoBaselinesView {
  judged_on: 'eval' | 'validation';
  n: number;
  ppo: { checkpoint: number; win_rate: number; ci_low: number; ci_high: number; mean_gold: number };
  best_of_n: { n: number; win_rate: number; ci_low: number; ci_high: number; mean_gold: number; mean_rm: number }[];
}
export interface OveroptimizationView {
  seed: number;
  prompts: number;
  steps: number;
  curves: { kl_coef: number; run: number; points: CheckpointJudgementView[] }[];
}

// ---------- push events (main → renderer) ----------
export interface Events {
  'job.progress': JobInfo;
  'job.done': JobInfo;
  'project.changed': ProjectInfo | null;
  'data.changed': { kinds: string[] };
  /** A judgment was saved (any annotator): progress and agreement panels refresh. */
  'label.changed': { taskId: number; itemId: number; annotatorId: number };
}

// ---------- derived types ----------
export type Methods = typeof methods;
export type MethodName = keyof Methods;
/** What a caller passes (defaults optional). */
export type Input<M extends MethodName> = z.input<Methods[M]['input']>;
/** What a handler receives (validated, defaults filled in). */
export type ParsedInput<M extends MethodName> = z.output<Methods[M]['input']>;
export type Output<M extends MethodName> = Exclude<Methods[M]['output'], undefined>;
export type EventName = keyof Events;

/** The object the renderer talks to, whichever the transport (preload's window.rlhf, or HTTP/WS). */
export interface RlhfApi {
  call<M extends MethodName>(method: M, input: Input<M>): Promise<Result<Output<M>>>;
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
}

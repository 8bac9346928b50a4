// The one API contract between the renderer and the main process.
// Every method has a zod schema for its input (validated at the boundary, in both transports)
// and a TypeScript type for its output. The renderer imports this file with `import type` only.
// Bound twice: to Electron IPC (api/ipc.ts) and to HTTP + WebSocket (api/http.ts).
import { z } from 'zod';

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
const split = z.enum(['train', 'eval']);

// ---------- shared shapes (outputs) ----------
export interface ProjectInfo {
  path: string;
  name: string;
  isDemo: boolean;
  schemaVersion: number;
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
  split: 'train' | 'eval';
  responses: number;
  rankings: number;
}
export interface PairRow {
  prompt_id: number;
  prompt: string;
  chosen: string;
  rejected: string;
  annotator: string;
}
export interface SftRow {
  id: number;
  kind: 'completion' | 'messages' | 'text';
  prompt: string | null;
  completion: string | null;
  text: string | null;
  split: 'train' | 'eval';
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
}
export interface JobProgress {
  done: number;
  total: number;
  /** e.g. 'lines', 'steps', 'tokens' */
  unit: string;
  message?: string;
  etaSeconds?: number;
  rate?: number;
}

export interface InviteInfo {
  /** sha256 of the token: identifies the invite without revealing it. */
  id: string;
  annotatorId: number;
  annotator: string;
  createdAt: number;
  revokedAt: number | null;
}

export const importKinds = z.enum(['prompts', 'sft', 'preferences', 'rankings']);
export const exportKinds = z.enum(['preferences', 'sft', 'rankings', 'comparisons', 'prompts']);

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
        as: importKinds,
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
        as: importKinds,
        split: split.optional(),
      })
      .strict(),
  ),
  'data.export': method<{ path: string; count: number }>()(
    z.object({ file: z.string().min(1).max(4096), as: exportKinds, format: z.enum(['trl', 'hh']).optional() }).strict(),
  ),
  'data.exportText': method<{ name: string; text: string; count: number }>()(
    z.object({ as: exportKinds, format: z.enum(['trl', 'hh']).optional() }).strict(),
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
  'data.responses': method<{ id: number; text: string; source: string; checkpoint_id: number | null }[]>()(
    z.object({ promptId: id }).strict(),
  ),

  // --- jobs: long work in the engine worker ---
  'jobs.list': method<JobInfo[]>()(none),
  'jobs.cancel': method<JobInfo>()(z.object({ id: z.string().min(1).max(100) }).strict()),

  // --- invites: LAN access for teammates (browser mode with --lan); local user only ---
  /** `url` is the invite link when this process serves on the LAN, else null. */
  'invites.create': method<{ token: string; id: string; url: string | null }>()(z.object({ annotatorId: id }).strict()),
  'invites.list': method<InviteInfo[]>()(none),
  'invites.revoke': method<{ revoked: boolean }>()(z.object({ id: z.string().regex(/^[0-9a-f]{64}$/) }).strict()),
} as const;

// ---------- push events (main → renderer) ----------
export interface Events {
  'job.progress': JobInfo;
  'job.done': JobInfo;
  'project.changed': ProjectInfo | null;
  'data.changed': { kinds: string[] };
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

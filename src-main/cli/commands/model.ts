// `model new|import|export|list`: make, bring in, take out and list the project's models (docs/cli.md).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { initBackend } from '../../engine/backend/backend.js';
import { importModelSource } from '../../engine/io/hf.js';
import { exportCheckpoint, importSourceWithAdapter, type FetchedSource } from '../../engine/io/adapter-io.js';
import { enginePathOf, isLlamaConfig, parseModelConfig } from '../../engine/models/model.js';
import { createNewModel, newModelSchema } from '../../engine/io/new-model.js';
import type { Command, CommandIO } from '../command.js';
import { checkpointArg, openProject, optionalNumber, parseFlags } from '../engine-args.js';
import { InputError } from '../../shared/errors.js';

const USAGE =
  'model new <project> --layers N --heads N --embd N --ctx N [--vocab N] [--seed S] [--name NAME]\n' +
  '           [--family gpt2|llama] [--kv-heads N] [--mlp N] [--untied] [--qkv-bias] [--rope-theta X]\n' +
  '       model import <project> <hf-folder | hf:OWNER/NAME[@REVISION]> [--name NAME] [--adapter PEFT_LORA_FOLDER | hf:OWNER/ADAPTER[@REVISION]]\n' +
  '       model export <project> <checkpoint> <folder> [--merged]   (a LoRA checkpoint: a PEFT folder, or merged a full model)\n' +
  '       model list <project>';

async function modelNew(argv: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseFlags('model new', USAGE, argv, {
    layers: { type: 'string' },
    heads: { type: 'string' },
    embd: { type: 'string' },
    ctx: { type: 'string' },
    vocab: { type: 'string' },
    seed: { type: 'string' },
    name: { type: 'string' },
    family: { type: 'string' },
    'kv-heads': { type: 'string' },
    mlp: { type: 'string' },
    untied: { type: 'boolean' },
    'qkv-bias': { type: 'boolean' },
    'rope-theta': { type: 'string' },
  });
  if (positionals.length !== 1) throw new InputError(`model new: expected one project file\nusage: rlhf-lab ${USAGE}`);
  const raw = {
    n_layer: optionalNumber(values.layers, '--layers'),
    n_head: optionalNumber(values.heads, '--heads'),
    n_embd: optionalNumber(values.embd, '--embd'),
    n_positions: optionalNumber(values.ctx, '--ctx'),
    vocab_size: optionalNumber(values.vocab, '--vocab'),
    seed: optionalNumber(values.seed, '--seed'),
    name: values.name,
    family: values.family,
    n_kv_head: optionalNumber(values['kv-heads'] as string | undefined, '--kv-heads'),
    intermediate_size: optionalNumber(values.mlp as string | undefined, '--mlp'),
    tie_word_embeddings: values.untied ? false : undefined,
    qkv_bias: values['qkv-bias'] ? true : undefined,
    rope_theta: optionalNumber(values['rope-theta'] as string | undefined, '--rope-theta'),
  };
  const llamaOnly = (['kv-heads', 'mlp', 'untied', 'qkv-bias', 'rope-theta'] as const).filter((f) => values[f] !== undefined);
  if (values.family !== 'llama' && llamaOnly.length > 0) throw new InputError(`model new: --${llamaOnly[0]} needs --family llama`);
  const flag: Record<string, string> = {
    n_layer: '--layers',
    n_head: '--heads',
    n_embd: '--embd',
    n_positions: '--ctx',
    vocab_size: '--vocab',
    n_kv_head: '--kv-heads',
    intermediate_size: '--mlp',
    rope_theta: '--rope-theta',
  };
  const parsed = newModelSchema.safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
  if (!parsed.success) {
    throw new InputError(`model new: ${parsed.error.issues.map((i) => `${flag[String(i.path[0])] ?? `--${String(i.path[0])}`}: ${i.message}`).join('; ')}`);
  }
  if (parsed.data.n_embd % parsed.data.n_head !== 0) throw new InputError('model new: --embd must be divisible by --heads');
  if (parsed.data.n_head % (parsed.data.n_kv_head ?? parsed.data.n_head) !== 0) throw new InputError('model new: --heads must be a multiple of --kv-heads');
  const project = openProject(positionals[0]!);
  try {
    const backend = await initBackend();
    const r = createNewModel(project, parsed.data);
    const path = enginePathOf(r.config);
    io.out(
      { checkpoint: r.checkpoint, family: parsed.data.family, vocab_size: r.vocabSize, parameters: r.parameters, backend: backend.name, engine_path: path },
      `checkpoint ${r.checkpoint}: new ${parsed.data.family} model, ${r.parameters.toLocaleString('en')} parameters, vocabulary of ${r.vocabSize} tokens\n` +
        `training: ${path.training}\ngeneration: ${path.generation}`,
    );
    return 0;
  } finally {
    project.close();
  }
}

async function modelImport(argv: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseFlags('model import', USAGE, argv, { name: { type: 'string' }, adapter: { type: 'string' } });
  if (positionals.length !== 2) throw new InputError(`model import: expected <project> <hf-folder | hf:OWNER/NAME>\nusage: rlhf-lab ${USAGE}`);
  const folder = positionals[1]!;
  const fromHub = folder.startsWith('hf:');
  if (!fromHub && !existsSync(folder)) throw new InputError(`model import: ${folder}: no such folder`);
  if (values.adapter !== undefined && !values.adapter.startsWith('hf:') && !existsSync(values.adapter)) throw new InputError(`model import: ${values.adapter}: no such folder`);
  const project = openProject(positionals[0]!);
  try {
    await initBackend();
    let id: number;
    let hubNote = '';
    if (values.adapter !== undefined) {
      let ids: Awaited<ReturnType<typeof importSourceWithAdapter>>;
      try {
        ids = await importSourceWithAdapter(project, folder, values.adapter, {
          ...(values.name ? { name: values.name } : {}),
          onProgress: (p) => io.progress(p.done, p.total, 'bytes', p.file),
        });
      } catch (e) {
        throw new InputError(`model import: ${(e as Error).message}`);
      }
      const a = project.checkpoints.get(ids.adapter)!;
      const where = (s: FetchedSource) =>
        s.from ? `${s.from} (${s.fromCache ? 'found in the Hugging Face cache, nothing downloaded' : `${(s.downloaded / 1e6).toFixed(1)} MB downloaded`}: ${s.folder})` : s.folder;
      io.out(
        { checkpoint: ids.adapter, base: ids.base, adapter: a.extra?.adapter ?? null, model_config: a.model_config },
        `checkpoint ${ids.base}: imported ${where(ids.sources.base)}
checkpoint ${ids.adapter}: its LoRA adapter from ${where(ids.sources.adapter)}`,
      );
      return 0;
    }
    try {
      const r = await importModelSource(project, folder, {
        ...(values.name ? { name: values.name } : {}),
        onProgress: (p) => io.progress(p.done, p.total, 'bytes', p.file),
      });
      id = r.checkpoint;
      if (fromHub) hubNote = ` (${r.fromCache ? 'found in the Hugging Face cache, nothing downloaded' : `${(r.downloaded! / 1e6).toFixed(1)} MB downloaded`}: ${r.folder})`;
    } catch (e) {
      throw new InputError(`model import: ${(e as Error).message}`);
    }
    const c = project.checkpoints.get(id)!;
    const config = parseModelConfig(c.model_config);
    const family = isLlamaConfig(config) ? config.model_type : 'gpt2';
    const path = enginePathOf(config);
    io.out(
      { checkpoint: id, family, model_config: c.model_config, engine_path: path },
      `checkpoint ${id}: imported ${fromHub ? folder + hubNote : resolve(folder)} (${family}, ${config.n_layer} layers, d ${config.n_embd}, context ${config.n_positions})\n` +
        `training: ${path.training}\ngeneration: ${path.generation}`,
    );
    return 0;
  } finally {
    project.close();
  }
}

async function modelExport(argv: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseFlags('model export', USAGE, argv, { merged: { type: 'boolean' } });
  if (positionals.length !== 3) throw new InputError(`model export: expected <project> <checkpoint> <folder>\nusage: rlhf-lab ${USAGE}`);
  const project = openProject(positionals[0]!);
  try {
    const id = checkpointArg(project, positionals[1], 'model export: <checkpoint>');
    await initBackend();
    const files = exportCheckpoint(project, id, positionals[2]!, { merged: values.merged === true });
    const folder = resolve(positionals[2]!);
    io.out({ checkpoint: id, folder, files }, `checkpoint ${id} → ${folder} (${files.join(', ')})`);
    return 0;
  } finally {
    project.close();
  }
}

async function modelList(argv: string[], io: CommandIO): Promise<number> {
  const { positionals } = parseFlags('model list', USAGE, argv, {});
  if (positionals.length !== 1) throw new InputError(`model list: expected one project file\nusage: rlhf-lab ${USAGE}`);
  const project = openProject(positionals[0]!);
  try {
    const checkpoints = project.checkpoints.list().map((c) => ({
      id: c.id,
      name: c.name,
      stage: c.stage,
      parent: c.parent_id,
      lineage: c.lineage,
      run: c.run_id,
      step: c.step,
      metrics: (c.extra?.metrics as Record<string, number> | undefined) ?? {},
      /** A LoRA checkpoint's settings and the checkpoint holding its base weights; null for full weights. */
      adapter: (c.extra?.adapter as Record<string, unknown> | undefined) ?? null,
      created_at: c.created_at,
    }));
    const lines = checkpoints.map((c) => {
      const m = Object.entries(c.metrics)
        .filter(([k]) => ['loss', 'eval/loss', 'eval/accuracy', 'objective/rlhf_reward'].includes(k))
        .map(([k, v]) => `${k} ${v.toFixed(3)}`)
        .join(', ');
      const lora = c.adapter ? `  [LoRA r ${String(c.adapter.r)} over #${String(c.adapter.base)}]` : '';
      return `${String(c.id).padStart(4)}  ${c.stage.padEnd(4)}  step ${String(c.step).padStart(6)}  parent ${c.parent ?? '-'}  ${c.name}${lora}${m ? `  (${m})` : ''}`;
    });
    io.out({ checkpoints }, lines.length ? lines.join('\n') : 'no checkpoints yet: "rlhf-lab model new" or "rlhf-lab model import"');
    return 0;
  } finally {
    project.close();
  }
}

const SUBCOMMANDS: Record<string, (argv: string[], io: CommandIO) => Promise<number>> = {
  new: modelNew,
  import: modelImport,
  export: modelExport,
  list: modelList,
};

export const modelCommand: Command = {
  name: 'model',
  usage: USAGE,
  summary: 'create a new model, import/export a Hugging Face folder (gpt2, llama, qwen2, mistral), list checkpoints',
  async run(argv, io) {
    const sub = SUBCOMMANDS[argv[0] ?? ''];
    if (!sub) throw new InputError(`model: expected new, import, export or list\nusage: rlhf-lab ${USAGE}`);
    return sub(argv.slice(1), io);
  },
};

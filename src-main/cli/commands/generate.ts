// `generate <project> --checkpoint <id> --prompt TEXT [-n N] [--seed S] [--temperature T]
// [--max-tokens N] [--top-k K] [--top-p P] [--chat]`: sample; the same seed gives the same text (CLI.md).
import { backendJson, initBackend } from '../../engine/backend/backend.js';
import { samplingSettingsSchema, sampleText } from '../../engine/models/sample-text.js';
import type { Command } from '../command.js';
import { checkpointArg, openProject, optionalNumber, parseFlags } from '../engine-args.js';
import { InputError } from '../../shared/errors.js';

const USAGE =
  'generate <project> --checkpoint <id> --prompt TEXT [-n N] [--seed S] [--temperature T] [--max-tokens N] [--top-k K] [--top-p P] [--chat] [--json]';

export const generateCommand: Command = {
  name: 'generate',
  usage: USAGE,
  summary: 'sample continuations of a prompt from a checkpoint (deterministic for a seed)',
  async run(argv, io) {
    const { values, positionals } = parseFlags('generate', USAGE, argv, {
      checkpoint: { type: 'string' },
      prompt: { type: 'string' },
      n: { type: 'string', short: 'n' },
      seed: { type: 'string' },
      temperature: { type: 'string' },
      'max-tokens': { type: 'string' },
      'top-k': { type: 'string' },
      'top-p': { type: 'string' },
      chat: { type: 'boolean', default: false },
    });
    if (positionals.length !== 1) throw new InputError(`generate: expected one project file\nusage: rlhf-lab ${USAGE}`);
    if (values.prompt === undefined) throw new InputError('generate: --prompt is required (it may be "")');
    const raw = {
      n: optionalNumber(values.n, '-n'),
      seed: optionalNumber(values.seed, '--seed'),
      temperature: optionalNumber(values.temperature, '--temperature'),
      max_tokens: optionalNumber(values['max-tokens'], '--max-tokens'),
      top_k: optionalNumber(values['top-k'], '--top-k'),
      top_p: optionalNumber(values['top-p'], '--top-p'),
      chat: values.chat,
    };
    const settings = samplingSettingsSchema.safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
    if (!settings.success) {
      throw new InputError(`generate: ${settings.error.issues.map((i) => `--${String(i.path[0]).replace('_', '-')}: ${i.message}`).join('; ')}`);
    }
    const project = openProject(positionals[0]!);
    try {
      const id = checkpointArg(project, values.checkpoint, '--checkpoint');
      const backend = await initBackend();
      const r = sampleText(project, id, values.prompt, settings.data);
      io.out(
        { checkpoint: id, prompt: values.prompt, ...settings.data, texts: r.texts, finished: r.finished, tokens_per_second: Math.round(r.tokens_per_second), ...backendJson(backend) },
        r.texts.map((t, i) => (r.texts.length > 1 ? `--- sample ${i + 1}\n` : '') + values.prompt + t).join('\n'),
      );
      return 0;
    } finally {
      project.close();
    }
  },
};

// `logprobs <project> --checkpoint <id> (--text TEXT | --ids 1,2,3)`: {"ids", "logprobs"} where
// logprobs[i] = log p(ids[i+1] | ids[0..i]) (docs/cli.md) — the numbers to check a model against.
import * as tf from '@tensorflow/tfjs';
import { backendJson, initBackend } from '../../engine/backend/backend.js';
import { loadModel } from '../../engine/io/checkpoint-io.js';
import type { Command } from '../command.js';
import { checkpointArg, openProject, parseFlags } from '../engine-args.js';
import { InputError } from '../../shared/errors.js';

const USAGE = 'logprobs <project> --checkpoint <id> (--text TEXT | --ids 1,2,3) [--json]';

export const logprobsCommand: Command = {
  name: 'logprobs',
  usage: USAGE,
  summary: 'per-token log-probabilities of a text or id sequence under a checkpoint',
  async run(argv, io) {
    const { values, positionals } = parseFlags('logprobs', USAGE, argv, {
      checkpoint: { type: 'string' },
      text: { type: 'string' },
      ids: { type: 'string' },
    });
    if (positionals.length !== 1) throw new InputError(`logprobs: expected one project file\nusage: rlhf-lab ${USAGE}`);
    if ((values.text === undefined) === (values.ids === undefined)) throw new InputError('logprobs: give either --text or --ids');
    const project = openProject(positionals[0]!);
    try {
      const id = checkpointArg(project, values.checkpoint, '--checkpoint');
      const backend = await initBackend();
      // An adapter checkpoint scores as base + adapter, exactly as it trained.
      const { model, tokenizer } = loadModel(project, id, 0, { adapter: 'attach' });
      try {
        let ids: number[];
        if (values.ids !== undefined) {
          ids = values.ids.split(',').map((s) => Number(s.trim()));
          const bad = ids.findIndex((x) => !Number.isInteger(x) || x < 0 || x >= model.config.vocab_size);
          if (bad >= 0) throw new InputError(`--ids: item ${bad + 1} ("${values.ids.split(',')[bad]}") is not a token id below ${model.config.vocab_size}`);
        } else ids = tokenizer.encode(values.text!);
        if (ids.length < 2) throw new InputError('logprobs: need at least two tokens');
        if (ids.length > model.config.n_positions) throw new InputError(`logprobs: ${ids.length} tokens exceed the model's context of ${model.config.n_positions}`);
        const logprobs = tf.tidy(() => Array.from(model.tokenLogprobs(tf.tensor2d([ids], [1, ids.length], 'int32')).dataSync()));
        const total = logprobs.reduce((a, b) => a + b, 0);
        io.out(
          { ids, logprobs, ...backendJson(backend) },
          ids
            .slice(1)
            .map((t, i) => `${JSON.stringify(tokenizer.decode([t]))}\t${logprobs[i]!.toFixed(4)}`)
            .join('\n') + `\ntotal ${total.toFixed(4)} nats, ${(total / logprobs.length).toFixed(4)} per token`,
        );
        return 0;
      } finally {
        model.dispose();
      }
    } finally {
      project.close();
    }
  },
};

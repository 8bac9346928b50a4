// The model a training run starts with, LoRA settings applied: every stage's job loads its
// trained model through here (before it creates its run row, so a bad setting leaves no empty
// run). The rules, one for every stage:
// - `lora_r` 0: every weight trains; a LoRA checkpoint is merged into its base first.
// - A resume continues the run's own adapter (its settings are the run's).
// - A new run with LoRA from a full checkpoint adds fresh adapters; that checkpoint is their base.
// - A new run with LoRA from a LoRA checkpoint: a stage whose reference is the start model with
//   the adapters off (DPO, PPO, RLOO, GRPO) merges the adapter into its base and adds fresh
//   adapters on that merged model, stored as a full checkpoint once the run saves its first
//   adapter, or reused from an earlier run (so the reference is exactly the start model, and every
//   adapter's base is a full checkpoint: bases never chain). The other stages (SFT, reward model) continue the adapter
//   when the settings match, and refuse other settings, saying how to go on.
import { loadModel, type LoadedModel, type ModelStore, adapterOf, modelShapes, nonAdapterTensors, weightsToBytes } from './checkpoint-io.js';
import { loraFromRunConfig, type LoraConfig } from '../models/lora.js';

/** A run's LoRA fields (models/lora.ts loraRunFields). */
export interface LoraRunSettings {
  lora_r: number;
  lora_alpha: number;
  lora_dropout: number;
  lora_targets: string;
}

export interface TrainStartOptions {
  /** The checkpoint the model starts from: the run's parent, or for a resume its last checkpoint. */
  checkpoint: number;
  /** True when `checkpoint` is the resumed run's own checkpoint. */
  resume: boolean;
  /** The run's config (its lora_* fields are read). */
  lora: LoraRunSettings;
  seed: number;
  /** The stage's reference model is the start model with the adapters off (DPO, PPO, RLOO, GRPO). */
  reference: boolean;
}

export interface TrainStart extends LoadedModel {
  /**
   * The checkpoint the adapters go on, for saveModel's adapterBase; undefined when every weight
   * trains. For a LoRA checkpoint merged into a new base, the first call stores that base.
   */
  adapterBase(): number | undefined;
  /** One line for the run's log: what trains. */
  describe(): string;
}

/** The model of a training run, set up for its LoRA settings (see the rules above). The caller disposes it. */
export function loadForTraining(project: ModelStore, o: TrainStartOptions): TrainStart {
  const loaded = loadModel(project, o.checkpoint, o.seed, { adapter: 'attach' });
  const { model } = loaded;
  try {
    const held = adapterOf(loaded.info);
    const wanted = loraFromRunConfig(o.lora, model.family.id);
    let base: number | undefined | (() => number);
    if (!wanted) {
      if (held) {
        model.mergeLora();
        loaded.weights = { ...model.getWeights(), ...nonAdapterTensors(loaded.weights) };
      }
      base = undefined;
    } else if (held && (o.resume || !o.reference)) {
      const c = model.lora!.config;
      if (!sameSettings(c, wanted)) {
        if (o.resume) throw new Error(`checkpoint ${o.checkpoint} holds a LoRA adapter (${settings(c)}) that differs from its run's settings (${settings(wanted)})`);
        throw new Error(
          `checkpoint ${o.checkpoint} holds a LoRA adapter (${settings(c)}): continue it with those settings, or set lora_r 0 to fine-tune it merged into its base`,
        );
      }
      base = held.base;
    } else if (held) {
      // The reference must be this very model: merge, and train fresh adapters on the merged weights.
      model.mergeLora();
      model.addLora(wanted, o.seed);
      let stored: number | undefined;
      const info = loaded.info;
      // One merged base per LoRA checkpoint: a later run from the same one reuses it (the merge is deterministic).
      const earlier = () => project.checkpoints.list?.().find((c) => c.extra?.merged_from === o.checkpoint && !adapterOf(c))?.id;
      base = () =>
        (stored ??= earlier() ?? project.checkpoints.save({
          name: `${info.name} (merged)`,
          stage: info.stage,
          parentId: o.checkpoint,
          step: info.step,
          modelConfig: info.model_config,
          tokenizer: loaded.tokenizer.toJSON(),
          weights: weightsToBytes(model.getWeights(), modelShapes(model)),
          extra: { merged_from: o.checkpoint },
        }));
    } else {
      if (o.resume) throw new Error(`checkpoint ${o.checkpoint} holds full weights, but its run trains LoRA adapters`);
      model.addLora(wanted, o.seed);
      base = o.checkpoint;
    }
    return {
      ...loaded,
      adapterBase: () => (typeof base === 'function' ? base() : base),
      describe: () => {
        const l = model.lora;
        const n = (x: number) => x.toLocaleString('en-US');
        if (!l) return `full fine-tuning: ${n(model.trainableParameterCount())} trainable parameters`;
        return `LoRA r=${l.config.r} alpha=${l.config.alpha} on ${l.modules().length} modules (${l.config.targets.join(', ')}): ${n(model.trainableParameterCount())} trainable parameters, the base's ${n(model.parameterCount())} frozen`;
      },
    };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

function sameSettings(a: LoraConfig, b: LoraConfig): boolean {
  return a.r === b.r && a.alpha === b.alpha && a.targets.join(',') === b.targets.join(',');
}

function settings(c: LoraConfig): string {
  return `r ${c.r}, alpha ${c.alpha}, targets ${c.targets.join(',')}`;
}

// LoRA in the RL stages (PPO, RLOO, GRPO): each trained model is an adapter on base weights that
// another model already holds (models/model.ts GPT.shareBase), never a copy of them. The frozen
// reference is the start model itself: the base weights with the start's adapter, if it has one
// (a LoRA SFT checkpoint), and no trained adapter — for a plain start, the policy's base with its
// adapters off. PPO's value model is an adapter of its own, plus its fully trained head, on the
// backbone it starts from (the reward model's or the start's).
import type { GPT } from '../models/model.js';
import type { LoraConfig } from '../models/lora.js';

const describe = (c: LoraConfig) => `r ${c.r}, alpha ${c.alpha}, targets ${c.targets.join(',')}`;

/**
 * A model to train on `init`'s base weights (shared, not copied) with an adapter of its own,
 * starting from `resume`'s adapter weights (a resumed run), else as `init` computes: a copy of
 * init's adapter when it has one (which `lora` must then match), else fresh adapters (B = 0).
 * `what` names the model in errors ("the policy").
 */
export function adaptedView(init: GPT, lora: LoraConfig, seed: number, what: string, resume?: Record<string, Float32Array>): GPT {
  const held = init.lora?.config;
  if (held && (held.r !== lora.r || held.alpha !== lora.alpha || held.targets.join(',') !== lora.targets.join(','))) {
    throw new Error(
      `${what} starts from a model with a LoRA adapter (${describe(held)}): train it with those settings (asked: ${describe(lora)}), or set lora_r 0 to train every weight of it merged into its base`,
    );
  }
  const model = init.shareBase(seed);
  try {
    if (resume) model.loadLora(lora, resume, seed);
    else if (init.lora) model.loadLora(lora, init.lora.getWeights(), seed);
    else model.addLora(lora, seed);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

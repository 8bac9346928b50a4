// What each logged metric means and which direction is good, for the legend of the Train view.
// Names follow docs/algorithms.md (TRL's names for PPO and DPO).
export type Direction = 'up' | 'down' | 'target' | 'none';

export interface MetricInfo {
  group: 'objective' | 'policy' | 'value' | 'loss' | 'reward' | 'eval' | 'speed' | 'other';
  means: string;
  good: Direction;
}

const info: Record<string, MetricInfo> = {
  loss: { group: 'loss', means: 'Training loss of this stage', good: 'down' },
  'eval/loss': { group: 'eval', means: 'Loss on the held-out split', good: 'down' },
  mean_token_accuracy: { group: 'loss', means: 'Share of target tokens predicted exactly', good: 'up' },
  'eval/mean_token_accuracy': { group: 'eval', means: 'Token accuracy on the held-out split', good: 'up' },
  grad_norm: { group: 'other', means: 'Gradient norm before clipping', good: 'none' },
  lr: { group: 'other', means: 'Learning rate (warmup, then cosine decay)', good: 'none' },
  tokens_per_second: { group: 'speed', means: 'Training throughput', good: 'up' },
  accuracy: { group: 'reward', means: 'Share of pairs where the chosen response scores higher', good: 'up' },
  'eval/accuracy': { group: 'eval', means: 'Held-out pair accuracy: the number that matters for a reward model', good: 'up' },
  margin: { group: 'reward', means: 'Mean r(chosen) − r(rejected)', good: 'up' },
  'eval/margin': { group: 'eval', means: 'Held-out mean r(chosen) − r(rejected)', good: 'up' },
  mean_reward: { group: 'reward', means: 'Mean reward-model score', good: 'none' },
  min_reward: { group: 'reward', means: 'Lowest reward-model score in the batch', good: 'none' },
  max_reward: { group: 'reward', means: 'Highest reward-model score in the batch', good: 'none' },
  'objective/kl': { group: 'objective', means: 'KL(policy ‖ SFT reference) per response; must stay ≥ 0 and bounded', good: 'target' },
  'objective/kl_coef': { group: 'objective', means: 'β, the KL penalty coefficient', good: 'none' },
  'objective/entropy': { group: 'objective', means: 'Entropy of the policy on its own samples', good: 'none' },
  'objective/scores': { group: 'objective', means: 'Mean reward-model score of the rollouts', good: 'up' },
  'objective/raw_scores': { group: 'objective', means: 'Mean reward-model score before the missing-EOS penalty and clipping', good: 'up' },
  'policy/skipped_minibatches': { group: 'policy', means: 'Minibatches skipped because their probability ratio ran away (above ratio_threshold)', good: 'down' },
  'policy/early_stopped': { group: 'policy', means: '1 when the update stopped early: approximate KL above 1.5 × target_kl', good: 'down' },
  'time/rollout_s': { group: 'speed', means: 'Seconds spent generating and scoring rollouts per step', good: 'down' },
  'time/update_s': { group: 'speed', means: 'Seconds spent on the PPO update per step', good: 'down' },
  'objective/non_score_reward': { group: 'objective', means: 'The KL penalty part of the reward (−β·KL)', good: 'none' },
  'objective/rlhf_reward': { group: 'objective', means: 'Score − β·KL: what PPO maximises', good: 'up' },
  'policy/approxkl_avg': { group: 'policy', means: 'Approximate KL between old and new policy per update', good: 'down' },
  'policy/clipfrac_avg': { group: 'policy', means: 'Share of tokens whose ratio was clipped', good: 'down' },
  'policy/entropy_avg': { group: 'policy', means: 'Policy entropy during the update', good: 'none' },
  'loss/policy_avg': { group: 'loss', means: 'Clipped surrogate loss', good: 'none' },
  'loss/value_avg': { group: 'loss', means: 'Clipped value loss', good: 'down' },
  'val/clipfrac_avg': { group: 'value', means: 'Share of value predictions clipped', good: 'down' },
  'val/ratio': { group: 'value', means: 'Mean new/old probability ratio; should stay near 1', good: 'target' },
  'val/ratio_var': { group: 'value', means: 'Variance of the ratio', good: 'down' },
  'val/var_explained': { group: 'value', means: 'Share of return variance the value head explains', good: 'up' },
  'val/num_eos_tokens': { group: 'value', means: 'Rollouts that ended with EOS', good: 'up' },
  'tokens/response_len_mean': { group: 'objective', means: 'Mean response length in tokens', good: 'none' },
  'rewards/chosen': { group: 'reward', means: 'DPO implicit reward of chosen responses', good: 'up' },
  'rewards/rejected': { group: 'reward', means: 'DPO implicit reward of rejected responses', good: 'down' },
  'rewards/accuracies': { group: 'reward', means: 'Share of pairs with reward(chosen) > reward(rejected)', good: 'up' },
  'rewards/margins': { group: 'reward', means: 'Mean reward(chosen) − reward(rejected)', good: 'up' },
  'logps/chosen': { group: 'policy', means: 'Log-probability of chosen responses', good: 'none' },
  'logps/rejected': { group: 'policy', means: 'Log-probability of rejected responses', good: 'down' },
  // GRPO, with TRL's GRPOTrainer names (RLOO logs PPO's names above).
  reward: { group: 'reward', means: 'Mean reward of the completions (score less the missing-EOS penalty)', good: 'up' },
  reward_std: { group: 'reward', means: 'Mean standard deviation of the reward within a group', good: 'none' },
  frac_reward_zero_std: { group: 'reward', means: 'Share of groups whose completions all got the same reward (no learning signal)', good: 'down' },
  kl: { group: 'objective', means: 'k3 KL(policy ‖ SFT reference) per token of the rollouts', good: 'target' },
  entropy: { group: 'objective', means: 'Entropy of the policy on its own completions', good: 'none' },
  'clip_ratio/low_mean': { group: 'policy', means: 'Share of tokens clipped at 1 − ε (negative advantage)', good: 'down' },
  'clip_ratio/high_mean': { group: 'policy', means: 'Share of tokens clipped at 1 + ε high (positive advantage)', good: 'down' },
  'clip_ratio/region_mean': { group: 'policy', means: 'Share of tokens whose ratio left the clip region', good: 'down' },
  'completions/mean_length': { group: 'objective', means: 'Mean completion length in tokens', good: 'none' },
  'completions/min_length': { group: 'objective', means: 'Shortest completion in tokens', good: 'none' },
  'completions/max_length': { group: 'objective', means: 'Longest completion in tokens', good: 'none' },
  'completions/clipped_ratio': { group: 'objective', means: 'Share of completions cut at max_new_tokens (no EOS)', good: 'down' },
  num_tokens: { group: 'speed', means: 'Completion tokens generated in the step', good: 'none' },
  learning_rate: { group: 'other', means: 'Learning rate (warmup, then cosine decay)', good: 'none' },
  episode: { group: 'other', means: 'Completions sampled so far', good: 'none' },
};

export const groupOrder: MetricInfo['group'][] = ['objective', 'reward', 'loss', 'eval', 'policy', 'value', 'speed', 'other'];

export function metricInfo(key: string): MetricInfo {
  if (info[key]) return info[key];
  if (key.startsWith('eval/')) return { group: 'eval', means: `${key.slice(5)} on the held-out split`, good: 'none' };
  const prefix = key.split('/')[0] as MetricInfo['group'];
  return { group: groupOrder.includes(prefix) ? prefix : 'other', means: key, good: 'none' };
}

export const directionText: Record<Direction, string> = {
  up: 'higher is better',
  down: 'lower is better',
  target: 'should stay near its target',
  none: '',
};

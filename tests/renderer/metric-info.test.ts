// The Train view's legend: every metric a PPO run logs is explained in words, not echoed as its key.
import { describe, expect, it } from 'vitest';
import { metricInfo } from '../../src-renderer/lib/metric-info.js';

const ppoKeys = [
  'objective/kl', 'objective/kl_coef', 'objective/entropy', 'objective/scores', 'objective/raw_scores',
  'objective/non_score_reward', 'objective/rlhf_reward', 'policy/approxkl_avg', 'policy/clipfrac_avg',
  'policy/entropy_avg', 'policy/skipped_minibatches', 'policy/early_stopped', 'loss/policy_avg', 'loss/value_avg',
  'val/clipfrac_avg', 'val/ratio', 'val/ratio_var', 'val/var_explained', 'val/num_eos_tokens',
  'tokens/response_len_mean', 'time/rollout_s', 'time/update_s',
];

describe('metric legend', () => {
  it.each(ppoKeys)('explains %s in words', (key) => {
    const info = metricInfo(key);
    expect(info.means).not.toBe(key);
    expect(info.means.length).toBeGreaterThan(10);
  });
});

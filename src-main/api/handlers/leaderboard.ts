// compare.leaderboard: Bradley–Terry ratings over every blind vote (compare/leaderboard.ts). For
// the host only: a teammate still judging blind should not see which checkpoint is ahead.
import { FEW_BATTLES, leaderboard } from '../../compare/leaderboard.js';
import type { ApiContext } from '../context.js';
import type { Handlers } from '../router.js';
import { UserError } from '../../shared/errors.js';

export const leaderboardHandlers: Partial<Handlers<ApiContext>> = {
  'compare.leaderboard': (_input, ctx) => {
    if (ctx.annotatorId !== null) throw new UserError('Only the host can do this.', 'forbidden');
    return { ...leaderboard(ctx.app.project()), few: FEW_BATTLES };
  },
};

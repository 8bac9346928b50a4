// Every API handler, one partial per feature area.
import type { ApiContext } from '../context.js';
import type { Handlers } from '../router.js';
import { appHandlers } from './app.js';
import { compareHandlers } from './compare.js';
import { dataHandlers } from './data.js';
import { deleteHandlers } from './delete.js';
import { demoHandlers } from './demo.js';
import { labelHandlers } from './label.js';
import { leaderboardHandlers } from './leaderboard.js';
import { modelsHandlers } from './models.js';
import { rewardHackingHandlers } from './reward-hacking.js';
import { trainHandlers } from './train.js';

export const handlers: Partial<Handlers<ApiContext>> = {
  ...appHandlers,
  ...compareHandlers,
  ...dataHandlers,
  ...deleteHandlers,
  ...demoHandlers,
  ...labelHandlers,
  ...leaderboardHandlers,
  ...modelsHandlers,
  ...rewardHackingHandlers,
  ...trainHandlers,
};

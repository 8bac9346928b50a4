// Each stage's colour as its catalogue entry declares it (src-main/train/stages.ts), fetched once
// through train.stages for every badge of the window. A teammate's browser is refused the stage
// forms, and its badges keep the neutral colour.
import type { Client } from './api';

let colours = $state<Record<string, string>>({});
let asked = false;

/** The stage's colour, once known (undefined before the first answer, and for 'base'). */
export function stageColour(client: Client, stage: string): string | undefined {
  if (!asked) {
    asked = true;
    client
      .call('train.stages', {})
      .then((stages) => (colours = Object.fromEntries(stages.map((s) => [s.stage, s.colour]))))
      .catch(() => {});
  }
  return colours[stage];
}

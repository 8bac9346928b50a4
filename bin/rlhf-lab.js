#!/usr/bin/env node
// The `rlhf-lab` command: runs the TypeScript sources directly through tsx's ESM loader, so a
// checkout needs no build step for the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src-main/cli/index.ts');
const status = await main(process.argv.slice(2));
// Jobs may leave timers or worker handles behind; the status is final once main returns.
process.exit(status);

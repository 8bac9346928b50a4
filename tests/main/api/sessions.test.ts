// Each browser tab keeps its project: a tab's switch binds that tab only, is announced to it
// alone, leaves the process's project (and the teammates on it) where it was; an invite made in
// a tab's project still lets its teammate in, on that project; a project nobody uses is closed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handlers } from '../../../src-main/api/handlers/index.js';
import { dispatch } from '../../../src-main/api/router.js';
import { Services, type EventAudience } from '../../../src-main/api/services.js';

let dir: string;
let services: Services;
const TAB_A = 'tab-aaaa-1111';
const TAB_B = 'tab-bbbb-2222';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sessions-'));
  services = new Services({ dataDir: join(dir, 'home'), demoPath: join(dir, 'no-demo.rlhf') });
  services.openProject(join(dir, 'team.rlhf'), { create: true });
});
afterEach(async () => {
  await services.close();
  rmSync(dir, { recursive: true, force: true });
});

const host = (session: string) => ({ app: services.forSession(session), annotatorId: null });

describe('projects per tab', () => {
  it('a switch binds the tab that made it, is announced to it alone, and moves nobody else', async () => {
    const events: { event: string; audience: EventAudience }[] = [];
    services.subscribe((event, _payload, audience) => void events.push({ event, audience }));
    const created = await dispatch(handlers, 'project.create', { path: join(dir, 'mine.rlhf') }, host(TAB_A));
    expect(created).toMatchObject({ ok: true, value: { name: 'mine' } });
    expect(events).toEqual([{ event: 'project.changed', audience: { session: TAB_A } }]);
    expect(await dispatch(handlers, 'project.current', {}, host(TAB_A))).toMatchObject({ value: { name: 'mine' } });
    expect(await dispatch(handlers, 'project.current', {}, host(TAB_B))).toMatchObject({ value: { name: 'team' } });
    expect(services.projectInfo()!.name).toBe('team');
    expect(services.isBound(TAB_A)).toBe(true);
    expect(services.isBound(TAB_B)).toBe(false);

    // Data written in tab A lands in A's project only.
    await dispatch(handlers, 'data.importText', { name: 'p.jsonl', text: '{"prompt":"only in mine"}\n', as: 'prompts' }, host(TAB_A)).then((r) => expect(r.ok).toBe(true));
    const mine = services.forSession(TAB_A).project();
    await expect.poll(() => mine.prompts.page({ offset: 0, limit: 10 }).total, { timeout: 30_000 }).toBe(1);
    expect(services.project().prompts.page({ offset: 0, limit: 10 }).total).toBe(0);
  });

  it("a teammate's invite made in a tab's project lets them in on that project", async () => {
    await dispatch(handlers, 'project.create', { path: join(dir, 'mine.rlhf') }, host(TAB_A));
    const mine = services.forSession(TAB_A).project();
    const { token } = mine.invites.create(mine.annotators.ensure('bob'))!;
    const invite = services.findInvite(token)!;
    expect(invite.path).toBe(mine.path);
    expect(services.forProject(invite.path).projectInfo()!.name).toBe('mine');
    // The process's project stays team's for a teammate invited there.
    const team = services.project();
    const alice = team.invites.create(team.annotators.ensure('alice'))!;
    expect(services.findInvite(alice.token)!.path).toBe(team.path);
  });

  it('closes a project when the last tab leaves it, keeps one a tab still uses', async () => {
    await dispatch(handlers, 'project.create', { path: join(dir, 'mine.rlhf') }, host(TAB_A));
    await dispatch(handlers, 'project.open', { path: join(dir, 'mine.rlhf') }, host(TAB_B));
    const mine = services.forSession(TAB_A).project();
    await dispatch(handlers, 'project.open', { path: join(dir, 'team.rlhf') }, host(TAB_A));
    expect(mine.db.open).toBe(true);
    await dispatch(handlers, 'project.open', { path: join(dir, 'team.rlhf') }, host(TAB_B));
    expect(mine.db.open).toBe(false);
  });
});

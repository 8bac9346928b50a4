// app.*, project.* (but stats), jobs.* and invites.*: the app's own methods.
import type { ApiContext } from '../context.js';
import type { Handlers } from '../router.js';
import { Services } from '../services.js';
import { UserError } from '../../shared/errors.js';

function services(ctx: ApiContext): Services {
  if (!(ctx.app instanceof Services)) throw new Error('app handlers need the Services implementation');
  return ctx.app;
}

/** Managing the app is for the person at the machine, never for a LAN caller. */
function requireLocal(ctx: ApiContext): void {
  if (ctx.annotatorId !== null) throw new UserError('Only the host can do this.', 'forbidden');
}

function invites(ctx: ApiContext) {
  return ctx.app.project().invites;
}

export const appHandlers: Partial<Handlers<ApiContext>> = {
  'app.info': (_input, ctx) => {
    const s = services(ctx);
    const local = ctx.annotatorId === null;
    return {
      version: s.version,
      backend: s.backendName(),
      recentProjects: local ? s.recentProjects() : [],
      demoPath: local ? s.demoPath() : null,
    };
  },
  'project.current': (_input, ctx) => services(ctx).projectInfo(),
  'project.create': ({ path }, ctx) => {
    requireLocal(ctx);
    const s = services(ctx);
    s.openProject(path, { create: true });
    return s.projectInfo()!;
  },
  'project.open': ({ path }, ctx) => {
    requireLocal(ctx);
    const s = services(ctx);
    s.openProject(path);
    return s.projectInfo()!;
  },
  'project.openDemo': (_input, ctx) => {
    requireLocal(ctx);
    const s = services(ctx);
    s.openDemo();
    return s.projectInfo()!;
  },
  'jobs.list': (_input, ctx) => services(ctx).jobs.list(),
  'jobs.cancel': ({ id }, ctx) => {
    requireLocal(ctx);
    return services(ctx).jobs.cancel(id);
  },
  'invites.create': ({ annotatorId }, ctx) => {
    requireLocal(ctx);
    const created = invites(ctx).create(annotatorId);
    if (!created) throw new UserError(`No annotator with id ${annotatorId}.`, 'not_found');
    const base = services(ctx).lanUrl;
    const url = base ? `${base}/?token=${encodeURIComponent(created.token)}` : null;
    return { ...created, url };
  },
  'invites.list': (_input, ctx) => {
    requireLocal(ctx);
    return invites(ctx).list();
  },
  'invites.revoke': ({ id }, ctx) => {
    requireLocal(ctx);
    const revoked = invites(ctx).revoke(id);
    // Browser mode closes the revoked teammate's event socket on the next broadcast: send one now.
    if (revoked) ctx.app.emit('data.changed', { kinds: ['invites'] });
    return { revoked };
  },
};

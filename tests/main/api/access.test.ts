import { describe, expect, it } from 'vitest';
import { allowedRemotely } from '../../../src-main/api/access.js';
import { methods, type MethodName } from '../../../src-main/shared/contract.js';

describe('what an invited teammate may call', () => {
  it('refuses every method that names a host file or manages the app', () => {
    for (const m of ['project.open', 'project.create', 'project.openDemo', 'data.import', 'data.export', 'data.importText', 'invites.create', 'invites.revoke', 'jobs.cancel'] as MethodName[]) {
      expect(allowedRemotely(m), m).toBe(false);
    }
    for (const m of Object.keys(methods) as MethodName[]) {
      const shape = (methods[m].input as unknown as { shape?: Record<string, unknown> }).shape ?? {};
      if ('path' in shape || 'file' in shape || 'folder' in shape) expect(allowedRemotely(m), m).toBe(false);
      if (m.startsWith('train.') || m.startsWith('models.')) expect(allowedRemotely(m), m).toBe(false);
    }
  });

  it('allows reading data and labeling', () => {
    for (const m of ['app.info', 'project.current', 'project.stats', 'data.prompts', 'label.next', 'label.submit', 'annotators.me'] as MethodName[]) {
      expect(allowedRemotely(m), m).toBe(true);
    }
  });
});

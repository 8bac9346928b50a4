// What a teammate reaching browser mode over the LAN (with an invite token) may call.
// They label and look; they never touch the host's files or manage the app. Rather than
// list every method, a remote call is refused when its input names a host path (a `path`,
// `file`, `folder` or `dir` field) or when its namespace manages the app.
import { z } from 'zod';
import { methods, type MethodName } from '../shared/contract.js';

const HOST_PATH_FIELDS = ['path', 'file', 'folder', 'dir', 'out'];
// models.*: creating, deleting and sampling checkpoints is the host's work, not a labeler's.
const LOCAL_NAMESPACES = ['invites', 'train', 'models', 'backup'];
// label.importBundle merges judgments under any annotator's name (and takes uploads up to 256 MB).
const LOCAL_METHODS = new Set<string>(['project.create', 'project.open', 'project.openDemo', 'data.importText', 'jobs.cancel', 'label.importBundle']);

export function allowedRemotely(name: MethodName): boolean {
  if (LOCAL_METHODS.has(name) || LOCAL_NAMESPACES.includes(name.split('.')[0]!)) return false;
  const input = methods[name].input;
  const shape = input instanceof z.ZodObject ? (input.shape as Record<string, unknown>) : {};
  return !HOST_PATH_FIELDS.some((f) => f in shape);
}

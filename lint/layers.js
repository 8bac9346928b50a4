// An ESLint rule that keeps the dependencies of src-main/ pointing one way (docs/architecture.md).
// Each source file belongs to one part of the app, found by the longest path prefix in `parts`;
// an import of a file of another part is reported unless `mayImport` lists that part, or an entry
// of `allow` names the importing file and the imported prefix (each with its reason).
// Only relative specifiers are resolved: packages (zod, tfjs, node:*) are never ours.
// Core `no-restricted-imports` matches specifier text, which cannot tell src-main/train/ from
// engine/train/ when both are `../train/…`; this rule resolves the path first.
import path from 'node:path';

/** @param {string} p */
const posix = (p) => p.split(path.sep).join('/');

/**
 * @param {Record<string, string>} parts prefix (repository-relative) → part
 * @param {string} file repository-relative path
 */
function partOf(parts, file) {
  let best = null;
  for (const prefix of Object.keys(parts)) {
    if ((file === prefix || file.startsWith(prefix)) && (best === null || prefix.length > best.length)) best = prefix;
  }
  return best === null ? null : parts[best];
}

/** @type {import('eslint').Rule.RuleModule} */
const importDirection = {
  meta: {
    type: 'problem',
    docs: { description: 'Imports point down the layers of the app (docs/architecture.md)' },
    schema: [
      {
        type: 'object',
        properties: {
          parts: { type: 'object', additionalProperties: { type: 'string' } },
          mayImport: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } },
          allow: {
            type: 'array',
            items: {
              type: 'object',
              properties: { from: { type: 'string' }, to: { type: 'string' }, reason: { type: 'string' } },
              required: ['from', 'to', 'reason'],
              additionalProperties: false,
            },
          },
        },
        required: ['parts', 'mayImport'],
        additionalProperties: false,
      },
    ],
    messages: {
      upward: '{{from}} ({{fromPart}}) imports {{to}} ({{toPart}}): {{fromPart}} may import {{allowed}}. See docs/architecture.md.',
    },
  },
  create(context) {
    const { parts, mayImport, allow = [] } = context.options[0];
    const root = context.cwd;
    const file = posix(path.relative(root, context.filename));
    const fromPart = partOf(parts, file);
    if (fromPart === null) return {};
    const allowed = new Set([fromPart, ...(mayImport[fromPart] ?? [])]);

    /** @param {import('estree').Node | null | undefined} source */
    function check(source) {
      if (!source || source.type !== 'Literal' || typeof source.value !== 'string' || !source.value.startsWith('.')) return;
      const target = posix(path.relative(root, path.resolve(path.dirname(context.filename), source.value)));
      const toPart = partOf(parts, target);
      if (toPart === null || allowed.has(toPart)) return;
      if (allow.some((a) => file === a.from && target.startsWith(a.to))) return;
      context.report({
        node: source,
        messageId: 'upward',
        data: { from: file, fromPart, to: target, toPart, allowed: allowed.size > 1 ? `only ${[...allowed].filter((p) => p !== fromPart).join(', ')}` : 'nothing of ours' },
      });
    }

    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
      // `import('../x.js').T` in a type position (`source` in newer typescript-eslint, `argument` before)
      TSImportType: (node) => check(node.source ?? (node.argument?.type === 'TSLiteralType' ? node.argument.literal : node.argument)),
    };
  },
};

export default { rules: { 'import-direction': importDirection } };

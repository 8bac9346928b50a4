// Flat ESLint config: typescript-eslint's recommended rules for TypeScript and scripts.
// Svelte components are checked by svelte-check (npm run typecheck), not by ESLint.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist*/**', 'node_modules/**', 'resources/**', 'out/**', 'test-results/**', '.*/**', '**/*.svelte'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
);

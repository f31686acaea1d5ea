// ESLint: typescript-eslint's strict rules, floating promises, curly braces and sorted imports
// (STYLE.md section 7). Formatting is Prettier's (.prettierrc.json), not ESLint's.
import js from '@eslint/js'
import simpleImportSort from 'eslint-plugin-simple-import-sort'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['node_modules/', 'web/dist/', 'test-output/', 'data/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'simple-import-sort': simpleImportSort },
    rules: {
      curly: ['error', 'all'],
      // node:test's test(), it() and describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
            // The store contract's withStore() registers a node:test test, as it() does.
            { from: 'file', path: 'src/store/store-contract.ts', name: 'withStore' },
          ],
        },
      ],
      // With noUncheckedIndexedAccess, `!` marks an index the code has checked another way
      // (a match group that matched, a key just set); the type checker still sees the rest.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // A leading underscore marks what a signature or a destructuring must name but not use.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // It cannot see a closure's write (a wake-up flag set by an event listener).
      'no-useless-assignment': 'off',
      // Deckhand matches control characters on purpose: refs and names must not carry them.
      'no-control-regex': 'off',
      // Promise<void> and api<void>() are how a generic says "nothing comes back".
      '@typescript-eslint/no-invalid-void-type': 'off',
      // Environment maps and merge patches remove keys chosen at run time; that is their job.
      '@typescript-eslint/no-dynamic-delete': 'off',
      'simple-import-sort/imports': 'error',
      'simple-import-sort/exports': 'error',
    },
  },
  {
    // Build configuration outside the TypeScript project: linted without type information.
    files: ['web/vite.config.ts', '*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Tests read the API's JSON answers loosely and assert on the shape they expect.
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
)

// ESLint: the recommended JavaScript and TypeScript rules, and the house's boundaries:
// - a folder under src/ is reached from outside only through its index.ts (docs/architecture.md);
// - nothing under src/ imports a development dependency (a clinic installs without them), except
//   the demo's generator, which the demo alone loads, lazily;
// - inside src/records, only the access gate calls the access rules.
// Formatting is Prettier's (checked by `npm run lint`, written by `npm run format`); eslint-config-prettier turns off the rules it owns.
import fs from 'node:fs';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

const devDependencies = Object.keys(JSON.parse(fs.readFileSync(new URL('./package.json', import.meta.url), 'utf8')).devDependencies);
const devOnly = (allowed = []) =>
  devDependencies
    .filter((name) => !allowed.includes(name))
    .map((name) => ({ name, message: 'a development dependency: a clinic installs without it (npm install --omit=dev)' }));

/** From a file `depth` folders below src/, another folder's files are reached only through its index. */
const boundary = (depth) => {
  const up = depth === 0 ? './' : '../'.repeat(depth);
  return [{ group: [`${up}*/**`, `!${up}*/index.js`], message: 'reach another folder of src/ through its index.ts (its public surface)' }];
};

const restricted = (depth, allowedDev) => ['error', { paths: devOnly(allowedDev), patterns: boundary(depth) }];

export default tseslint.config(
  { ignores: ['dist/**', 'web/dist/**', 'definitions/**', 'native/build/**', 'node_modules/**', '.tmp/**', 'demo-data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  { languageOptions: { globals: { ...globals.node } } },
  {
    files: ['web/src/**'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
  },
  {
    rules: {
      // `_`-prefixed names are kept on purpose (a destructured field dropped, an unused callback argument).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  { files: ['src/*.ts'], rules: { 'no-restricted-imports': restricted(0) } },
  { files: ['src/*/*.ts'], rules: { 'no-restricted-imports': restricted(1) } },
  { files: ['src/*/*/*.ts'], rules: { 'no-restricted-imports': restricted(2) } },
  { files: ['src/demo/*.ts'], rules: { 'no-restricted-imports': restricted(1, ['@faker-js/faker']) } },
  {
    // One enforcement path (docs/architecture.md): inside records, only the gate asks the access rules.
    files: ['src/records/**/*.ts'],
    ignores: ['src/records/accessGate.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.property.name='access']",
          message: 'records reaches the access rules through its AccessGate (accessGate.ts), the one enforcement path',
        },
      ],
    },
  },
  {
    // Tests, benches and scripts may use development dependencies and test a folder's inner parts.
    files: ['test/**', 'bench/**', 'scripts/**', 'web/**', '*.js'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);

// ESLint for the whole tree: the recommended JavaScript, TypeScript and Vue rules, formatting left
// to Prettier (.prettierrc), and the layering of docs/architecture.md as import restrictions so an
// editor flags a wrong-way import as it is typed (test/layers.test.ts checks the same, and more).
import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import vue from 'eslint-plugin-vue'
import globals from 'globals'
import tseslint from 'typescript-eslint'

const layer = (patterns, message) => ({ 'no-restricted-imports': ['error', { patterns: patterns.map((group) => ({ group: [group], message })) }] })

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'native/build/**', 'test-results/**', 'playwright-report/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'] } }
  },
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { ...globals.node } },
    rules: {
      // Unused names are errors, except the ones spelled as deliberately unused.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', destructuredArrayIgnorePattern: '^_' }],
      // Single-word names are how this app names its views (DataView, ...) and panels.
      'vue/multi-word-component-names': 'off'
    }
  },
  { files: ['src/renderer/**'], languageOptions: { globals: { ...globals.browser } } },
  { files: ['**/*.js', 'bin/**', 'scripts/**'], languageOptions: { sourceType: 'commonjs' }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
  // The layers: renderer -> shared <- main -> core <- workers.
  { files: ['src/shared/**'], rules: layer(['node:*', 'electron', '**/main/**', '**/core/**', '**/workers/**', '**/renderer/**'], 'src/shared is the contract: no Node, Electron or other layers.') },
  { files: ['src/renderer/**'], rules: layer(['node:*', 'electron', '**/main/**', '**/core/**', '**/workers/**'], 'The renderer talks to the API in src/shared only.') },
  { files: ['src/core/**'], rules: layer(['electron', 'better-sqlite3', '**/main/**', '**/workers/**', '**/renderer/**'], 'src/core is host-free: no Electron, SQLite, main or workers.') },
  { files: ['src/main/**'], rules: layer(['**/workers/**', '**/renderer/**'], 'Main starts workers as processes; it never imports them.') },
  { files: ['src/main/services/**'], rules: layer(['@tensorflow/*', '**/workers/**', '**/renderer/**', 'electron'], 'Services stay free of tfjs and Electron.') },
  { files: ['src/workers/**'], rules: layer(['electron', 'better-sqlite3', '**/main/**', '**/renderer/**'], 'Workers stream messages; main persists them.') },
  prettier
)

import baseConfig from '@hono/eslint-config'

export default [
  ...baseConfig,
  {
    ignores: ['dist/**', 'coverage/**', 'bench/results/**', 'ca/**', '.cache/**'],
  },
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: ['*.mjs', 'scripts/*.mjs'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    // Structural types keep `ws` out of the published declarations; the wiring that needs it
    // lives in src/app/app-server.ts (and the CLI keeps its own server to close WebSockets with
    // 1001 when it stops). Archive support is the wsgiprox/replay entry: nothing else in src/
    // imports it (the CLI loads it with import() when `wsgiprox replay` runs), so a proxy never
    // loads warcio or yauzl.
    files: ['src/**/*.ts'],
    ignores: ['src/replay/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: ['ws', 'warcio', 'yauzl'], patterns: ['./replay/*', '../replay', '../replay/*'] },
      ],
    },
  },
  {
    // One idea per file: a source file that grows past 300 lines holds two.
    files: ['src/**/*.ts'],
    rules: { 'max-lines': ['error', { max: 300, skipBlankLines: false, skipComments: false }] },
  },
  {
    files: ['src/app/app-server.ts', 'src/cli/websockets.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: ['warcio', 'yauzl'], patterns: ['./replay/*', '../replay', '../replay/*'] },
      ],
    },
  },
  {
    // The peers' types come from bench/peers' own install, absent until `npm run bench`; CI
    // type-checks these files with `tsc -p bench/peers` once it is there. The scripts are plain
    // JavaScript that loads the built package, whose types no checker sees from there.
    files: ['bench/peers/**/*.ts', 'scripts/*.mjs'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
  {
    // The examples import the package by name, as users' code does. That name resolves inside
    // this checkout (to src/ through tsconfig paths, or to dist/ once built), which would make it
    // an internal import in one checkout and an external one in another: it is external.
    files: ['examples/**/*.ts'],
    rules: {
      'import-x/order': [
        'error',
        {
          groups: ['external', 'builtin', 'internal', 'parent', 'sibling', 'index'],
          pathGroups: [
            { pattern: 'wsgiprox', group: 'external' },
            { pattern: 'wsgiprox/**', group: 'external' },
          ],
          alphabetize: { order: 'asc', caseInsensitive: true },
        },
      ],
    },
  },
  {
    // The bin is the built dist/cli.mjs; tsdown carries this source file's shebang into it.
    files: ['src/cli/index.ts'],
    rules: { 'n/hashbang': 'off' },
  },
]

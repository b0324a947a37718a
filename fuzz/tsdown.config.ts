import { defineConfig } from 'tsdown'

// Each target becomes one CommonJS file with the project's sources inside it: Jazzer.js
// instruments what it loads through require(), and the dependencies stay outside, in
// node_modules, which it leaves alone.
export default defineConfig({
  entry: ['targets/*.fuzz.ts'],
  outDir: '../.cache/fuzz/build',
  format: 'cjs',
  platform: 'node',
  target: 'node20.19',
  dts: false,
  clean: true,
  sourcemap: true,
  // Only what a target uses: no target needs a module for its side effects alone.
  treeshake: { moduleSideEffects: false },
  checks: { pluginTimings: false },
})

import { defineConfig } from 'tsdown'

export default defineConfig({
  entry: { index: 'src/index.ts', replay: 'src/replay/index.ts', cli: 'src/cli/index.ts' },
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  dts: true,
  clean: true,
  // Its timing report is for plugin authors; on a busy machine it fires on every build.
  checks: { pluginTimings: false },
})

import { defineConfig } from 'vitest/config'
import { availableParallelism } from 'node:os'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    globals: true,
    setupFiles: ['./test/setup.ts'],
    testTimeout: 10_000,
    hookTimeout: 10_000,
    pool: 'forks',
    // vitest's default is one file at a time on a 2-core machine (cores - 1); most files wait on
    // sockets, timers and child processes, so two at a time halve the suite's time there.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    execArgv: ['--expose-gc'],
  },
})

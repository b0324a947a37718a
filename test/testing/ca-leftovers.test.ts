/**
 * The CA folders of killed processes: a process that is killed runs no exit listener (vitest's
 * workers, a SIGKILL), so the next proxy that writes its CA file removes what they left.
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { startProxy } from '../../src/testing/start-proxy'
import type { TestProxy } from '../../src/testing/start-proxy'
import { TSX_IMPORT } from '../helpers/spawn'

let temp: string
let proxy: TestProxy | undefined
beforeEach(async () => {
  temp = await mkdtemp(join(tmpdir(), 'wsgiprox-leftovers-'))
})
afterEach(async () => {
  await proxy?.close()
  proxy = undefined
  vi.unstubAllEnvs()
  await rm(temp, { recursive: true, force: true })
})

/** Run a process that writes its CA file and is then killed with SIGKILL; the file's path. */
async function killedAfterWriting(): Promise<string> {
  const kit = pathToFileURL(resolve(import.meta.dirname, '../../src/testing/start-proxy.ts'))
  const script = [
    `import { startProxy } from ${JSON.stringify(kit.href)}`,
    `const proxy = await startProxy()`,
    `console.log(proxy.ca.file)`,
    `process.kill(process.pid, 'SIGKILL')`,
  ].join('\n')
  const args = ['--import', TSX_IMPORT, '--input-type=module', '-e', script]
  const env = { ...process.env, TMPDIR: temp }
  const stdout = await new Promise<string>((done) => {
    execFile(process.execPath, args, { env }, (error, out) => {
      expect(error?.signal).toBe('SIGKILL')
      done(out)
    })
  })
  return stdout.trim()
}

describe('the CA file of a killed process', () => {
  it('is left holding the certificate alone, and removed by the next proxy that writes one', async () => {
    const left = await killedAfterWriting()
    expect(dirname(dirname(left))).toBe(temp)
    expect(readFileSync(left, 'utf8')).toMatch(
      /^-----BEGIN CERTIFICATE-----\n[^]*-----END CERTIFICATE-----\n$/
    )
    // A folder of a process that still runs (this one's parent) stays, and so does one another
    // host wrote (a container sharing /tmp): its pid names no process here.
    const tag = createHash('sha256').update(hostname()).digest('hex').slice(0, 8)
    const running = join(temp, `wsgiprox-ca-${tag}-${process.ppid}-AbCdEf`)
    mkdirSync(running)
    const otherHost = join(temp, `wsgiprox-ca-12345678-${String(2 ** 22 + 1)}-AbCdEf`)
    mkdirSync(otherHost)

    vi.stubEnv('TMPDIR', temp)
    proxy = await startProxy()
    const own = proxy.ca.file
    expect(existsSync(dirname(left))).toBe(false)
    // (tsx keeps its cache in TMPDIR too.)
    const folders = readdirSync(temp).filter((name) => name.startsWith('wsgiprox-ca-'))
    expect(folders.sort()).toEqual(
      [basename(running), basename(otherHost), basename(dirname(own))].sort()
    )
    expect(basename(dirname(own))).toMatch(new RegExp(`^wsgiprox-ca-${tag}-${process.pid}-`))
  })
})

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { runCluster } from '../src/cluster/cluster'
import { OptionsError } from '../src/errors'
import { httpsTunnel, requestOver } from './helpers/clients'
import type { Seen } from './helpers/conninfo-app'
import type { Started } from './helpers/spawn'
import { outputMatching, startListening, TSX_IMPORT } from './helpers/spawn'
import { readText, streamThrough } from './helpers/streams'

const root = resolve(import.meta.dirname, '..')
const APP = join(root, 'test/helpers/conninfo-app.ts')

let started: Started | undefined
afterEach(async () => {
  await started?.stop()
  started = undefined
})

/** `wsgiprox --workers 2` with the conninfo app, in a fresh folder for its CA. */
async function startWorkers(...flags: string[]) {
  const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-cluster-'))
  const cli = join(root, 'src/cli/index.ts')
  started = await startListening(
    ['--import', TSX_IMPORT, cli, '--port', '0', '--workers', '2', '--app', APP, ...flags],
    { cwd }
  )
  const caFile = join(cwd, 'ca/wsgiprox-ca.pem')
  return { started, cwd, caFile, caPem: readFileSync(caFile, 'utf8') }
}

/** One HTTPS request for `host` in a new tunnel, verified against the CA: who served it. */
async function seenOver(port: number, host: string, caPem: string): Promise<Seen> {
  const tls = await httpsTunnel(port, `${host}:443`, host, caPem)
  const reply = await requestOver(tls, '/', { host })
  tls.destroy()
  expect(reply.status).toBe(200)
  return JSON.parse(reply.body) as Seen
}

describe('runCluster in a program of its own', () => {
  const PROGRAM = join(root, 'test/helpers/cluster-program.ts')

  /** The program's primary, stopped by SIGTERM: its output once it exited, and its exit. */
  async function stopped(env: Record<string, string>) {
    const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-cluster-'))
    const running = await startListening(['--import', TSX_IMPORT, PROGRAM], {
      cwd,
      env: { WSGIPROX_TEST_CA: join(cwd, 'ca.pem'), ...env },
    })
    started = running
    const exited = once(running.child, 'exit')
    running.child.kill('SIGTERM')
    const [code, signal] = (await exited) as [number | null, string | null]
    return { output: running.output(), code, signal }
  }

  it('leaves signals and the exit to the program with handleSignals and exitWorkers false', async () => {
    const { output, code, signal } = await stopped({})
    // Only the program's own SIGTERM handler, which stopped the cluster and saw it stopped.
    expect(output).toContain('SIGTERM listeners: 0')
    expect(output).toContain('own handler: stopping')
    expect(output).toContain('own handler: stopped')
    // The workers ended as their program said (exit code 7), not by runCluster's exit(0).
    expect(output.match(/worker exited with code 7/g)).toHaveLength(2)
    expect([code, signal]).toEqual([0, null])
  }, 60_000)

  it('keeps the primary up when a worker reports a failed message on its channel', async () => {
    const { output, code } = await stopped({ WSGIPROX_TEST_CHANNEL_ERROR: '1' })
    expect(output).not.toContain("Unhandled 'error' event")
    expect(output).toContain('own handler: stopped')
    expect(code).toBe(0)
  }, 60_000)

  it('by default stops on SIGTERM itself and ends each worker with code 0', async () => {
    const { output } = await stopped({ WSGIPROX_TEST_DEFAULTS: '1' })
    expect(output).toContain('SIGTERM listeners: 1')
    expect(output.match(/worker exited with code 0/g)).toHaveLength(2)
  }, 60_000)
})

describe('wsgiprox --workers', () => {
  it('spreads hosts over the workers, which all sign with the one CA file; a killed worker is replaced', async () => {
    const { started: running, cwd, caFile, caPem } = await startWorkers()
    expect(running.output()).toContain('2 workers (node:cluster)')
    const written = statSync(caFile).mtimeMs

    const pids = new Set<number>()
    for (let i = 0; i < 12; i++) {
      // Every leaf is verified against the CA file: TLS fails for any other issuer.
      pids.add((await seenOver(running.port, `host-${i}.example.com`, caPem)).pid)
    }
    expect(pids.size).toBe(2)
    expect(readdirSync(join(cwd, 'ca'))).toEqual(['wsgiprox-ca.pem'])
    expect(statSync(caFile).mtimeMs).toBe(written)

    const [victim] = [...pids]
    const replaced = outputMatching(running, /worker (\d+) listening/)
    process.kill(victim ?? 0, 'SIGKILL')
    await outputMatching(running, new RegExp(`worker ${String(victim)} exited on SIGKILL`))
    const newPid = Number((await replaced)[1])
    expect(newPid).not.toBe(victim)

    const after = new Set<number>()
    for (let i = 0; i < 8; i++) {
      after.add((await seenOver(running.port, `again-${i}.example.com`, caPem)).pid)
    }
    expect(after.has(newPid)).toBe(true)
    expect(after.has(victim ?? 0)).toBe(false)
  }, 60_000)

  it('keeps the announced port when every worker started on port 0 has died', async () => {
    const { started: running, caPem } = await startWorkers()
    const pids = new Set<number>()
    for (let i = 0; i < 12 && pids.size < 2; i++) {
      pids.add((await seenOver(running.port, `first-${i}.example.com`, caPem)).pid)
    }
    expect(pids.size).toBe(2)
    const [first, second] = [...pids]
    const replaced = outputMatching(running, /worker \d+ listening[\s\S]*worker (\d+) listening/)
    process.kill(first ?? 0, 'SIGKILL')
    process.kill(second ?? 0, 'SIGKILL')
    await replaced
    // The banner's port, where clients were told to connect, serves again.
    const after = await seenOver(running.port, 'after.example.com', caPem)
    expect(pids.has(after.pid)).toBe(false)
  }, 60_000)

  it('on SIGTERM lets a streamed response finish, cuts one that outlasts the timeout, and exits 0', async () => {
    const { started: running } = await startWorkers('--shutdown-timeout', '1.5')
    const short = await streamThrough(running.port, 10)
    const endless = await streamThrough(running.port, 0)
    await Promise.all([short.firstChunk, endless.firstChunk])
    const exited = once(running.child, 'exit')
    const t0 = Date.now()
    running.child.kill('SIGTERM')

    const finished = await short.ended
    expect(finished.complete).toBe(true)
    expect(finished.body.trim().split('\n')).toHaveLength(10)
    const cut = await endless.ended
    expect(cut.complete).toBe(false)
    expect(await exited).toEqual([0, null])
    // Cut at the timeout, not at the primary's last-resort kill two seconds later.
    expect(Date.now() - t0).toBeLessThan(3_000)
    expect(running.output()).toContain('stopping 2 workers')
  }, 60_000)

  it('stops at once, with the worker’s exit code, when the workers cannot start', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-cluster-'))
    const cli = join(root, 'src/cli/index.ts')
    const child = spawn(
      process.execPath,
      ['--import', TSX_IMPORT, cli, '--port', '0', '--workers', '2', '--app', 'missing.mjs'],
      { cwd, stdio: ['ignore', 'ignore', 'pipe'] }
    )
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    // A module that cannot be loaded is a runtime failure: exit code 1, told once.
    expect(await once(child, 'exit')).toEqual([1, null])
    expect(stderr).toMatch(/^wsgiprox: cannot read \S*missing\.mjs: no such file\n$/)
  }, 30_000)

  it('says in one line that the port is in use', async () => {
    const busy = createServer()
    busy.listen(0, '127.0.0.1')
    await once(busy, 'listening')
    const { port } = busy.address() as AddressInfo
    const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-cluster-'))
    const cli = join(root, 'src/cli/index.ts')
    const child = spawn(
      process.execPath,
      ['--import', TSX_IMPORT, cli, '--port', String(port), '--workers', '2'],
      { cwd, stdio: ['ignore', 'ignore', 'pipe'] }
    )
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    expect(await once(child, 'exit')).toEqual([1, null])
    busy.close()
    expect(stderr).toBe(
      `wsgiprox: cannot listen on 127.0.0.1:${port}: the port is in use; stop what listens there or choose another --port\n`
    )
  }, 30_000)

  it.each([
    [{ workers: 0 }, /workers must be a whole number >= 1 or 'auto', got 0/],
    [{ workers: 1.5 }, /workers must be a whole number/],
    [{ shutdownTimeoutMs: -1 }, /shutdownTimeoutMs must be a number of milliseconds >= 0/],
    [{ ca: { file: null } }, /ca.file must name a file the workers share/],
  ])('runCluster refuses %j before starting any worker', async (options, message) => {
    const start = () => Promise.reject(new Error('no worker should start'))
    await expect(runCluster(start, options)).rejects.toThrow(OptionsError)
    await expect(runCluster(start, options)).rejects.toThrow(message)
  })

  it.each([
    [['--workers', '0'], /--workers must be a number >= 1 or auto/],
    [['--workers', 'many'], /--workers must be a number >= 1 or auto/],
  ])('refuses %j with exit code 2', async (flags, message) => {
    const { PassThrough } = await import('node:stream')
    const { main } = await import('../src/cli/index')
    const stderr = new PassThrough()
    expect(await main(flags, { stdout: new PassThrough(), stderr })).toBe(2)
    expect(readText(stderr)).toMatch(message)
  })
})

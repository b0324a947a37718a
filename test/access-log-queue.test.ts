/**
 * The access log when nothing reads stdout (a stopped pager, a log shipper that is down): the CLI
 * keeps a bounded queue, drops the lines past it and says how many, instead of growing.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { TSX_IMPORT } from './helpers/spawn'

const CLI = resolve(import.meta.dirname, '../src/cli/index.ts')
/** Long targets make long lines: what an unbounded queue holds grows by about 1 KB a request. */
const TARGET = `http://example.com/${'x'.repeat(1000)}`

let child: ChildProcess | undefined
afterEach(async () => {
  if (child?.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL')
    await once(child, 'exit')
  }
  child = undefined
})

/** The resident set size of `pid`, in MB. */
function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024
}

/** Send `count` requests over `connections` keep-alive connections, each 50 in flight at most. */
async function sendRequests(port: number, count: number, connections = 8): Promise<void> {
  const each = Math.ceil(count / connections)
  const request = `GET ${TARGET} HTTP/1.1\r\nHost: example.com\r\n\r\n`
  await Promise.all(
    Array.from(
      { length: connections },
      () =>
        new Promise<void>((done, fail) => {
          const socket = connect(port, '127.0.0.1')
          let sent = 0
          let answered = 0
          const send = () => {
            while (sent < each && sent - answered < 50) {
              socket.write(request)
              sent++
            }
          }
          socket.on('connect', send)
          socket.on('error', fail)
          socket.on('data', (chunk: Buffer) => {
            answered += chunk.toString('latin1').split('HTTP/1.1 200').length - 1
            if (answered >= each) {
              socket.destroy()
              done()
            } else {
              send()
            }
          })
        })
    )
  )
}

describe('the access log on a stdout nobody reads', () => {
  it('stays bounded in memory, drops lines and says how many at exit', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-log-queue-'))
    writeFileSync(join(cwd, 'app.mjs'), "export default () => new Response('ok')\n")
    child = spawn(
      process.execPath,
      ['--import', TSX_IMPORT, CLI, '--port', '0', '--app', 'app.mjs', '--log-format', 'json'],
      {
        cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
      }
    )
    // Never read: the pipe fills, then the proxy's own queue would.
    child.stdout?.pause()
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    while (!/listening on http:\/\/127\.0\.0\.1:(\d+)/.test(stderr)) {
      await once(child.stderr ?? child, 'data')
    }
    const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)?.[1])
    const pid = child.pid ?? 0

    // Past warm-up (JIT, buffers, the first lines in the pipe), 20,000 more requests: an
    // unbounded queue grows by about 25 MB with them.
    await sendRequests(port, 20_000)
    const warm = rssMb(pid)
    await sendRequests(port, 20_000)
    const grown = rssMb(pid) - warm
    expect(grown).toBeLessThan(10)

    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    expect(await exited).toEqual([0, null])
    const dropped = Number(
      /wsgiprox: (\d+) access lines dropped: stdout was not read/.exec(stderr)?.[1]
    )
    expect(dropped).toBeGreaterThan(30_000)
  }, 60_000)
})

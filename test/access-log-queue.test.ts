/**
 * The access log when nothing reads stdout (a stopped pager, a log shipper that is down): the CLI
 * keeps a bounded queue, drops the lines past it and says how many, instead of growing; and when
 * its reader goes away (EPIPE), it keeps serving and counts the lines it could not write; a reader
 * that comes back hears the count and gets the next lines; a log file rotated under it is not
 * reopened.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { TSX_IMPORT } from './helpers/spawn'
import { within } from './helpers/within'

const CLI = resolve(import.meta.dirname, '../src/cli/index.ts')
/**
 * Long targets make long lines, about 8 KB each: with the queue's bound lifted, RSS grew by 352 MB
 * over the 20,000 requests measured (Node 24), far past what V8's own heap growth adds over them
 * (up to 27 MB on Node 24 with stdout read, so with no queue at all).
 */
const TARGET = `http://example.com/${'x'.repeat(8000)}`

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
    // unbounded queue grows by hundreds of MB with them.
    await sendRequests(port, 20_000)
    const warm = rssMb(pid)
    await sendRequests(port, 20_000)
    const grown = rssMb(pid) - warm
    expect(grown).toBeLessThan(50)

    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    expect(await exited).toEqual([0, null])
    const dropped = Number(
      /wsgiprox: (\d+) access lines dropped: stdout was not read/.exec(stderr)?.[1]
    )
    expect(dropped).toBeGreaterThan(30_000)
  }, 60_000)
})

/** A CONNECT to a long host, then bytes that are not TLS: the proxy reports one error line. */
function badTunnel(port: number, host: string): Promise<void> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`CONNECT ${host}:443 HTTP/1.1\r\nHost: ${host}:443\r\n\r\n`)
      socket.once('data', () => socket.write('\x16\x03\x01\x00\x05garbage-not-tls'.repeat(3)))
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      done()
    })
  })
}

describe('the error lines on a stderr nobody reads', () => {
  it('hold at most the bounded queue, and the dropped ones are counted', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-err-queue-'))
    child = spawn(process.execPath, ['--import', TSX_IMPORT, CLI, '--port', '0'], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    // stderr is not read until the tunnels are done: the pipe fills, then the proxy's queue.
    let stdout = ''
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    while (!/listening on http:\/\/127\.0\.0\.1:(\d+)/.test(stdout)) {
      await once(child.stdout ?? child, 'data')
    }
    const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1])
    // About 420 bytes an error line: 6,000 of them are 2.5 MB, twice the queue and the pipe.
    const host = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.example.com`
    const count = 6000
    let next = 0
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < count) {
          next++
          await badTunnel(port, host)
        }
      })
    )

    // Read stderr now: what comes out is what was held, then the count of what was not.
    let stderr = ''
    const tally = () => {
      const shown = stderr.split('\n').filter((line) => line.startsWith('wsgiprox: error (tls '))
      const dropped = [
        ...stderr.matchAll(/wsgiprox: (\d+) error lines dropped: stderr was not read/g),
      ]
        .map((match) => Number(match[1]))
        .reduce((a, b) => a + b, 0)
      return { shown: shown.length, dropped }
    }
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    for (let told = tally(); told.shown + told.dropped < count; told = tally()) {
      await once(child.stderr ?? child, 'data')
    }
    // The queue (1 MiB), the pipe (64 KiB) and the count; unbounded, all 2.5 MB would come.
    expect(stderr.length).toBeLessThan(1.5 * 1024 * 1024)
    expect(tally().dropped).toBeGreaterThan(2000)

    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    expect(await exited).toEqual([0, null])
  }, 60_000)
})

describe('the access log when its reader goes away', () => {
  it('keeps serving, counts the lines it could not write and says so at exit', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-log-gone-'))
    writeFileSync(join(cwd, 'app.mjs'), "export default () => new Response('ok')\n")
    child = spawn(
      process.execPath,
      ['--import', TSX_IMPORT, CLI, '--port', '0', '--app', 'app.mjs'],
      {
        cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
      }
    )
    let stdout = ''
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    while (!/listening on http:\/\/127\.0\.0\.1:(\d+)/.test(stdout)) {
      await once(child.stdout ?? child, 'data')
    }
    const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1])
    // What `wsgiprox | head` does once head has its lines: the pipe's reading end closes, and
    // each write of the proxy to it fails with EPIPE.
    child.stdout?.destroy()

    await sendRequests(port, 2000)
    await sendRequests(port, 2000)
    expect(child.exitCode).toBeNull()

    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    expect(await exited).toEqual([0, null])
    expect(stderr).not.toMatch(/EPIPE|Unhandled/)
    const dropped = Number(
      /wsgiprox: (\d+) access lines dropped: stdout was closed/.exec(stderr)?.[1]
    )
    // Every line, but those a write may have put in the pipe before its reading end was closed.
    expect(dropped).toBeGreaterThan(3990)
    expect(dropped).toBeLessThanOrEqual(4000)
  }, 60_000)
})

/** Start the CLI in `cwd` with `stdout` as its stdout; resolves with it and its port. */
async function startCli(
  cwd: string,
  stdout: 'pipe' | number
): Promise<{ running: ChildProcess; port: number }> {
  writeFileSync(join(cwd, 'app.mjs'), "export default () => new Response('ok')\n")
  const running = spawn(
    process.execPath,
    ['--import', TSX_IMPORT, CLI, '--port', '0', '--app', 'app.mjs', '--log-format', 'json'],
    { cwd, stdio: ['ignore', stdout, 'pipe'] }
  )
  child = running
  let stderr = ''
  running.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  while (!/listening on http:\/\/127\.0\.0\.1:(\d+)/.test(stderr)) {
    await once(running.stderr ?? running, 'data')
  }
  return { running, port: Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)?.[1]) }
}

/** What the CLI's stderr says from now on. */
function stderrOf(running: ChildProcess): () => string {
  let text = ''
  running.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()))
  return () => text
}

/** Resolves once `check()` holds, looked at every 20 ms; fails with `failure` after 3 s. */
function until(check: () => boolean, failure: string): Promise<void> {
  return within(
    (async () => {
      while (!check()) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    })(),
    failure
  )
}

describe('the access log when its reader stalls, then reads again', () => {
  it('tells the lines dropped once it drains, and the next lines arrive', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-log-resume-'))
    const { running, port } = await startCli(cwd, 'pipe')
    const stderr = stderrOf(running)
    running.stdout?.pause()
    // Past the pipe's buffer and the 1 MiB queue: about 1 KB a line.
    await sendRequests(port, 3000)
    let stdout = ''
    running.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    running.stdout?.resume()
    await until(
      () => stderr().includes('access lines dropped: stdout was not read'),
      'no drop count on stderr once stdout was read again'
    )
    expect(running.exitCode).toBeNull()
    stdout = ''
    await sendRequests(port, 1)
    await until(() => stdout.includes('"status":200'), 'no access line after the reader came back')
  }, 60_000)
})

describe('the access log written to a file that is rotated', () => {
  it('goes on in a renamed file, from the start of a truncated one, and past a deleted one', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-log-rotate-'))
    const log = join(cwd, 'access.log')
    // `wsgiprox >> access.log`: the shell opens it for appending.
    const fd = openSync(log, 'a')
    const { running, port } = await startCli(cwd, fd).finally(() => {
      closeSync(fd)
    })
    /** The text a request adds to `path`. */
    const lineIn = async (path: string) => {
      const before = readFileSync(path, 'utf8')
      await sendRequests(port, 1)
      await until(() => readFileSync(path, 'utf8') !== before, `no access line in ${path}`)
      return readFileSync(path, 'utf8').slice(before.length)
    }
    expect(await lineIn(log)).toContain('"status":200')
    // Rotation by renaming: the proxy's stdout is the renamed file.
    renameSync(log, `${log}.1`)
    expect(await lineIn(`${log}.1`)).toContain('"status":200')
    // logrotate's copytruncate: the next line starts the emptied file, with no hole before it.
    truncateSync(`${log}.1`)
    await lineIn(`${log}.1`)
    expect(readFileSync(`${log}.1`, 'utf8')).toMatch(/^\{"type":"request"/)
    // Deleted: the proxy keeps serving.
    unlinkSync(`${log}.1`)
    await sendRequests(port, 50)
    expect(running.exitCode).toBeNull()
    const stderr = stderrOf(running)
    const exited = once(running, 'exit')
    running.kill('SIGTERM')
    expect(await exited).toEqual([0, null])
    expect(stderr()).not.toMatch(/dropped|error/)
  }, 60_000)
})

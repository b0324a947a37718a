/**
 * A single `wsgiprox` process on SIGINT/SIGTERM, spawned as a user runs it: it says it is
 * stopping, accepts nothing new, lets requests in flight finish within --shutdown-timeout, closes
 * WebSockets with 1001, exits though the app holds a timer, and exits at once on a second signal.
 */
import { once } from 'node:events'
import { mkdtempSync, readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { connectTunnel, h2OverTunnel } from './helpers/clients'
import type { Started } from './helpers/spawn'
import { outputMatching, startListening, TSX_IMPORT } from './helpers/spawn'
import { streamThrough } from './helpers/streams'
import { tunnelledSocket } from './helpers/websockets'

const root = resolve(import.meta.dirname, '..')
const APP = join(root, 'test/helpers/timer-app.ts')

let started: Started | undefined
afterEach(async () => {
  if (started?.child.exitCode === null && started.child.signalCode === null) {
    started.child.kill('SIGKILL')
    await once(started.child, 'exit')
  }
  started = undefined
})

/** One `wsgiprox` process serving the timer app, with its CA in a fresh folder. */
async function startOne(...flags: string[]) {
  const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-shutdown-'))
  const cli = join(root, 'src/cli/index.ts')
  started = await startListening(
    ['--import', TSX_IMPORT, cli, '--port', '0', '--app', APP, ...flags],
    { cwd }
  )
  return { running: started, caPem: readFileSync(join(cwd, 'ca/wsgiprox-ca.pem'), 'utf8') }
}

/**
 * What a new connection to `port` gets for a request: nothing once the proxy has stopped
 * accepting (refused, or reset from the closed listener's backlog).
 */
function answerOnNewConnection(port: number): Promise<string> {
  return new Promise((resolve) => {
    let answer = ''
    const socket = connect(port, '127.0.0.1', () => {
      socket.write('GET http://example.com/late HTTP/1.1\r\nHost: example.com\r\n\r\n')
    })
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()))
    socket.on('error', () => {})
    socket.once('close', () => {
      resolve(answer)
    })
  })
}

describe('wsgiprox on SIGTERM and SIGINT', () => {
  it('lets a streamed response finish, closes WebSockets with 1001, refuses new connections and exits 0 though the app holds a timer', async () => {
    const { running, caPem } = await startOne()
    const stream = await streamThrough(running.port, 10)
    const ws = tunnelledSocket(running.port, 'wss://example.com/ws', caPem)
    await once(ws, 'message')
    const wsClosed = once(ws, 'close') as Promise<[number, Buffer]>
    await stream.firstChunk
    const exited = once(running.child, 'exit')
    running.child.kill('SIGTERM')

    await outputMatching(running, /wsgiprox: stopping; requests in flight have 10 s to finish/)
    expect(await answerOnNewConnection(running.port)).toBe('')
    const finished = await stream.ended
    expect(finished.complete).toBe(true)
    expect(finished.body.trim().split('\n')).toHaveLength(10)
    expect((await wsClosed)[0]).toBe(1001)
    expect(await exited).toEqual([0, null])
  }, 30_000)

  it('cuts a response that outlasts --shutdown-timeout, then exits 0', async () => {
    const { running } = await startOne('--shutdown-timeout', '0.5')
    const endless = await streamThrough(running.port, 0)
    await endless.firstChunk
    const exited = once(running.child, 'exit')
    const t0 = Date.now()
    running.child.kill('SIGINT')
    expect((await endless.ended).complete).toBe(false)
    expect(await exited).toEqual([0, null])
    expect(Date.now() - t0).toBeLessThan(5_000)
  }, 30_000)

  it('cuts an HTTP/2 stream that outlasts --shutdown-timeout on time, and an idle tunnel at once', async () => {
    const { running, caPem } = await startOne('--shutdown-timeout', '0.5')
    const { session, tls } = await h2OverTunnel(running.port, caPem)
    tls.on('error', () => {})
    const endless = session.request({ ':path': '/stream?chunks=0' })
    endless.on('error', () => {})
    await once(endless, 'data')
    const silent = (await connectTunnel(running.port, 'example.com:80')).socket
    silent.resume()
    const exited = once(running.child, 'exit')
    const t0 = Date.now()
    const silentClosed = once(silent, 'close').then(() => Date.now() - t0)
    running.child.kill('SIGTERM')
    expect(await silentClosed).toBeLessThan(400)
    expect(await exited).toEqual([0, null])
    // The timeout and the time to exit, not a further grace for HTTP/2 streams.
    expect(Date.now() - t0).toBeLessThan(1_800)
  }, 30_000)

  it('exits at once with code 1 on a second signal', async () => {
    const { running } = await startOne('--shutdown-timeout', '60')
    const endless = await streamThrough(running.port, 0)
    await endless.firstChunk
    const exited = once(running.child, 'exit')
    running.child.kill('SIGINT')
    await outputMatching(running, /stopping; requests in flight have 60 s/)
    running.child.kill('SIGINT')
    expect(await exited).toEqual([1, null])
    expect(running.output()).toContain('wsgiprox: SIGINT again: stopping now')
  }, 30_000)
})

import { Hono } from 'hono'
import { once } from 'node:events'
import type { Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { connectTunnel, rawSocket, readHead, tlsOverTunnel } from './helpers/clients'
import type { RunningProxy } from './helpers/proxy'
import { startProxy } from './helpers/proxy'

const CHUNK = new Uint8Array(16 * 1024).fill(120)

let running: RunningProxy | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

/** An app with an endless stream that counts what it produced and tells when it is cancelled. */
function endlessApp() {
  let cancel = () => {}
  const state = { produced: 0, cancelled: new Promise<void>((resolve) => (cancel = resolve)) }
  const app = new Hono()
  app.get('*', (c) => {
    if (c.req.path.endsWith('/short')) {
      return new Response(new Blob(['short body']).stream())
    }
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        state.produced += CHUNK.byteLength
        controller.enqueue(CHUNK)
      },
      cancel() {
        cancel()
      },
    })
    return new Response(body, { headers: { 'content-type': 'application/octet-stream' } })
  })
  return { app, state }
}

/** Read at least `bytes` of body after the head. */
async function readBody(socket: Socket, bytes: number): Promise<number> {
  let seen = 0
  while (seen < bytes) {
    const chunk = socket.read() as Buffer | null
    if (chunk) {
      seen += chunk.length
      continue
    }
    await once(socket, 'readable')
  }
  return seen
}

describe.each([
  ['an absolute-form request', 'direct'],
  ['a request inside a TLS tunnel', 'tls'],
])('an HTTP/1.0 client sending %s', (_name, via) => {
  async function open(path: string): Promise<Socket> {
    if (!running) {
      throw new Error('no proxy')
    }
    if (via === 'direct') {
      const socket = await rawSocket(running.port)
      socket.write(`GET http://example.com${path} HTTP/1.0\r\nHost: example.com\r\n\r\n`)
      return socket
    }
    const { socket } = await connectTunnel(running.port, 'example.com:443', {}, '1.0')
    const tls = await tlsOverTunnel(socket, 'example.com', running.caPem)
    tls.write(`GET ${path} HTTP/1.0\r\nHost: example.com\r\n\r\n`)
    return tls
  }

  it('gets a streamed body that the closing of the connection ends, and memory stays bounded', async () => {
    const { app, state } = endlessApp()
    running = await startProxy(app)
    const socket = await open('/endless')
    const head = await readHead(socket)
    expect(head).toMatch(/^HTTP\/1\.[01] 200 /)
    expect(head.toLowerCase()).not.toContain('content-length')
    expect(head.toLowerCase()).not.toContain('transfer-encoding')
    await readBody(socket, 4 * 1024 * 1024)
    // The client stops reading: backpressure stops the app's stream once the socket buffers on
    // both sides are full (a few MB on loopback, filled sooner or later on a busy machine).
    socket.pause()
    const paused = state.produced
    let stalled = false
    for (let i = 0; i < 50 && !stalled; i++) {
      const before = state.produced
      await sleep(200)
      stalled = state.produced - before < 64 * 1024
    }
    expect(stalled, 'the app kept producing for 10 s after the client stopped reading').toBe(true)
    expect(state.produced - paused).toBeLessThan(16 * 1024 * 1024)
    socket.destroy()
    await state.cancelled
  })

  it('gets a Content-Length for a short body without one', async () => {
    const { app } = endlessApp()
    running = await startProxy(app)
    const socket = await open('/short')
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    await once(socket, 'end')
    const text = Buffer.concat(chunks).toString()
    expect(text).toMatch(/\r\ncontent-length: 10\r\n/i)
    expect(text.endsWith('\r\n\r\nshort body')).toBe(true)
  })
})

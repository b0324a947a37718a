import { Hono } from 'hono'
import { once } from 'node:events'
import type { Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { HTTP10_BUFFER_BYTES } from '../src/app/http10'
import type { ErrorContext } from '../src/types'
import { connectTunnel, rawExchange, rawSocket, readHead, tlsOverTunnel } from './helpers/clients'
import type { RunningProxy } from './helpers/proxy'
import { startProxy } from './helpers/proxy'
import { within } from './helpers/within'

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

it('answers an HTTP/1.0 HEAD at once, not after the body it will not send, and releases that body', async () => {
  let cancelled = () => {}
  const cancel = new Promise<void>((resolve) => (cancelled = resolve))
  // A plain fetch function (Hono answers HEAD itself), whose body has nothing to give yet: a
  // long poll. Held for a length, the head would wait for it.
  running = await startProxy(
    () =>
      new Response(
        new ReadableStream<Uint8Array>({
          cancel: () => {
            cancelled()
          },
        }),
        { headers: { 'x-app': 'long-poll' } }
      )
  )
  const reply = await within(
    rawExchange(running.port, 'HEAD http://example.com/poll HTTP/1.0\r\nHost: example.com\r\n\r\n'),
    'no head for the HEAD'
  )
  expect(reply).toMatch(/^HTTP\/1\.1 200 /)
  expect(reply.toLowerCase()).toContain('x-app: long-poll')
  await within(cancel, "the app's body of the HEAD was never released")
})

/** 160 KiB in all: more than an HTTP/1.0 response is held for to give it a length. */
const LONG_TEXT = 'y'.repeat(4096)

/**
 * App responses the platform's Response would refuse or change, built when the request comes
 * with node-server's lightweight Response (the global one by then), which checks nothing, as an
 * app's are. Each row: what the app returns, and the status HTTP/1.1 answers it with.
 */
const UNRULY: [string, () => Response, number][] = [
  ['status 0', () => new Response('x', { status: 0 }), 200],
  ['status NaN', () => new Response('x', { status: NaN }), 200],
  ["status '404', a string", () => new Response('x', { status: '404' as never }), 502],
  ['status 200.5', () => new Response('x', { status: 200.5 }), 502],
  ["a stream with status '404'", () => new Response(bytesOf('x'), { status: '404' as never }), 502],
  ['a body with status 204', () => new Response('abc', { status: 204 }), 204],
  ['a body with status 304', () => new Response('abc', { status: 304 }), 304],
  ['a stream with status 204', () => new Response(bytesOf('abc'), { status: 204 }), 204],
  [
    'a header value with CR/LF',
    () => new Response('x', { headers: { 'x-a': 'a\r\nX-B: 1' } }),
    502,
  ],
  ['a bad header name', () => new Response('x', { headers: { 'bad name': 'x' } }), 502],
  [
    'a stream with a CR/LF header',
    () => new Response(bytesOf('x'), { headers: { 'x-a': 'a\r\nX-B: 1' } }),
    502,
  ],
  ['an ArrayBuffer body with status 0', () => new Response(new ArrayBuffer(1), { status: 0 }), 502],
  [
    'an ArrayBuffer body with a CR/LF header',
    () => new Response(new ArrayBuffer(1), { headers: { 'x-a': 'a\r\nX-B: 1' } }),
    502,
  ],
  ['a stream that enqueues a string', () => new Response(textsOf('text chunk')), 200],
  [
    'a long stream of strings',
    () => new Response(textsOf(...Array.from({ length: 40 }, () => LONG_TEXT))),
    200,
  ],
]

function bytesOf(text: string): ReadableStream<Uint8Array> {
  return new Blob([text]).stream()
}

/** A stream of strings, not bytes: node-server writes each as Node's `write` would. */
function textsOf(...texts: string[]): ReadableStream<string> {
  return new ReadableStream({
    start(controller) {
      for (const text of texts) {
        controller.enqueue(text)
      }
      controller.close()
    },
  })
}

/** A response read off the wire: the status line, the lower-cased head and the body. */
interface WireReply {
  status: number
  reason: string
  head: string
  body: string
}

function parseReply(text: string): WireReply {
  const end = text.indexOf('\r\n\r\n')
  const head = end === -1 ? text : text.slice(0, end)
  const line = /^HTTP\/1\.[01] (\d{3}) ?(.*)/.exec(head)
  return {
    status: Number(line?.[1] ?? 0),
    reason: line?.[2] ?? '',
    head: head.toLowerCase(),
    body: end === -1 ? '' : unchunked(head, text.slice(end + 4)),
  }
}

/** The body of an HTTP/1.1 reply as its chunked encoding carries it. */
function unchunked(head: string, body: string): string {
  if (!/\r\ntransfer-encoding: chunked\r?$/im.test(head)) {
    return body
  }
  let data = ''
  let at = 0
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at)
    const size = parseInt(body.slice(at, lineEnd), 16)
    if (!(size > 0)) {
      return data
    }
    data += body.slice(lineEnd + 2, lineEnd + 2 + size)
    at = lineEnd + 2 + size + 2
  }
}

describe('an HTTP/1.0 client gets what an HTTP/1.1 client gets', () => {
  const reports: { error: Error; context: ErrorContext }[] = []

  beforeEach(async () => {
    reports.length = 0
    running = await startProxy(
      (request: Request) => {
        const row = Number(/\/row\/(\d+)$/.exec(new URL(request.url).pathname)?.[1])
        return UNRULY[row]?.[1]() ?? new Response('no such row', { status: 404 })
      },
      { onError: (error, context) => reports.push({ error, context }) }
    )
  })

  /** The reply to `GET path` over HTTP/`version`, absolute-form or inside a TLS tunnel. */
  async function ask(path: string, version: '1.0' | '1.1', via: 'direct' | 'tls') {
    if (!running) {
      throw new Error('no proxy')
    }
    if (via === 'direct') {
      const request = `GET http://example.com${path} HTTP/${version}\r\nHost: example.com\r\n`
      return parseReply(await rawExchange(running.port, `${request}Connection: close\r\n\r\n`))
    }
    const { socket } = await connectTunnel(running.port, 'example.com:443', {}, version)
    const tls = await tlsOverTunnel(socket, 'example.com', running.caPem)
    const chunks: Buffer[] = []
    tls.on('data', (chunk: Buffer) => chunks.push(chunk))
    tls.on('error', () => {})
    const closed = once(tls, 'close')
    tls.write(`GET ${path} HTTP/${version}\r\nHost: example.com\r\n\r\n`)
    await closed
    return parseReply(Buffer.concat(chunks).toString('latin1'))
  }

  it.each(UNRULY.map(([name, , status], row) => [name, status, row] as const))(
    'answers %s as HTTP/1.1 does (%i)',
    async (_name, status, row) => {
      const path = `/row/${String(row)}`
      const http11 = await ask(path, '1.1', 'direct')
      const http10 = await ask(path, '1.0', 'direct')
      const tunnelled10 = await ask(path, '1.0', 'tls')
      for (const reply of [http11, http10, tunnelled10]) {
        expect(reply.status).toBe(status)
        expect(reply.body).toBe(http11.body)
      }
      for (const reply of [http10, tunnelled10]) {
        expect(reply.head).not.toContain('transfer-encoding')
      }
      const fromApp = reports.filter((report) => report.context.phase === 'app')
      expect(reports).toEqual(fromApp)
      if (status === 502) {
        expect(http11.reason).toBe('Bad Gateway')
        expect(http10.reason).toBe('Bad Gateway')
        expect(http11.body).toMatch(/^Bad Gateway: the app's response could not be sent \(.+\)\n$/)
        expect(fromApp).toHaveLength(3)
      } else {
        expect(fromApp).toEqual([])
      }
      if (status === 200) {
        expect(http11.body.length).toBeGreaterThan(0)
        // A short body gets its length; a longer one ends with the connection.
        const length = `content-length: ${String(Buffer.byteLength(http10.body))}`
        if (http10.body.length <= HTTP10_BUFFER_BYTES) {
          expect(http10.head).toContain(length)
        } else {
          expect(http10.head).not.toContain('content-length')
        }
      }
    }
  )
})

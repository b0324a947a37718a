import { Response as UndiciResponse } from 'undici'
import { once } from 'node:events'
import { Agent, request as httpRequest } from 'node:http'
import type { IncomingMessage } from 'node:http'
import { connect as http2Connect } from 'node:http2'
import type { ClientHttp2Session } from 'node:http2'
import { connect as tlsConnect } from 'node:tls'
import type { ErrorContext } from '../src/types'
import {
  connectTunnel,
  h2Get,
  rawExchange,
  rawSocket,
  requestOver,
  tlsOverTunnel,
} from './helpers/clients'
import type { RunningProxy } from './helpers/proxy'
import { startProxy } from './helpers/proxy'
import { closeOf, within } from './helpers/within'

/**
 * An app whose responses Node cannot send as given, the way replay apps pass archived responses
 * through. Responses are built when the request comes, with the Response class node-server
 * installs, which (like an archive) does not check what it is given.
 */
function unruly(request: Request): Response | Promise<Response> {
  const url = new URL(request.url)
  const path = url.pathname.replace(/^\/https?:\/\/[^/]+/, '')
  const host = /^\/https?:\/\/([^/]+)/.exec(url.pathname)?.[1] ?? url.host
  if (path.startsWith('/later/')) {
    // The same response from an async app: node-server takes another path for a promise.
    const now = new Request(request.url.replace('/later/', '/'), request)
    return Promise.resolve().then(() => unruly(now))
  }
  const status = /^\/status\/(\d+)$/.exec(path)?.[1]
  if (status !== undefined) {
    return new Response('archived body', { status: Number(status) })
  }
  switch (path) {
    // What a fetch handler written in plain JavaScript may return.
    case '/not-a-response':
      return 42 as unknown as Response
    case '/undici-response':
      // What `fetch` from the undici package answers: a Response of another class than Node's.
      return new UndiciResponse('from undici', {
        status: 201,
        headers: { 'X-From': 'undici' },
      }) as unknown as Response
    case '/undici-stream':
      return new UndiciResponse(streamOf('streamed ', 'from undici')) as unknown as Response
    case '/unreadable-response':
      // Every read of it throws, `then` included, which awaiting it reads.
      return new Proxy(new Response('x'), {
        get() {
          throw new Error('a Response that cannot be read')
        },
      })
    case '/text-not-a-response':
      return 'archived body' as unknown as Response
    case '/hop-by-hop':
      return new Response('hop', {
        headers: {
          'Keep-Alive': 'timeout=5',
          'Transfer-Encoding': 'chunked',
          Upgrade: 'h2c',
          'Proxy-Connection': 'keep-alive',
          TE: 'trailers',
          'HTTP2-Settings': 'AAMAAABkAAQCAAAAAAIAAAAA',
          Connection: 'keep-alive, X-Private',
          'X-Private': 'secret',
          Trailer: 'X-Checksum',
          'X-Kept': 'yes',
        },
      })
    case '/short-length':
      // The body is longer than the length it declares.
      return new Response('hello, and more bytes that must not leak', {
        headers: { 'Content-Length': '5' },
      })
    case '/short-stream':
      return new Response(streamOf('hello', ', and more bytes that must not leak'), {
        headers: { 'Content-Length': '5' },
      })
    case '/long-length':
      // The body ends before the length it declares.
      return new Response(streamOf('only this'), { headers: { 'Content-Length': '100' } })
    case '/bad-header':
      return new Response('x', { headers: { 'X-Bad': 'a\r\nInjected: yes' } })
    case '/bad-header-pairs':
      // As pairs, the shape a replay app passes archived headers in: Fetch's Headers refuses it.
      return new Response('x', { headers: [['X-Bad', 'a\r\nInjected: yes']] })
    case '/bad-header-name':
      return new Response('x', { headers: { 'X Bad': 'v' } })
    case '/bad-header-colon':
      return new Response('x', { headers: { 'a:b': 'v' } })
    case '/bad-header-name-pairs':
      return new Response('x', { headers: [['X Bad', 'v']] })
    case '/unprintable-header':
      // A value that cannot be made text at all.
      return new Response('x', { headers: { 'Content-Length': Object.create(null) as string } })
    case '/unprintable-failure':
      return new Response(
        new ReadableStream({
          pull(controller) {
            controller.error(Object.create(null))
          },
        })
      )
    case '/unreadable-message':
      return new Response(
        new ReadableStream({
          pull(controller) {
            const error = new Error('hidden')
            Object.defineProperty(error, 'message', {
              get: () => {
                throw new Error('message getter')
              },
            })
            controller.error(error)
          },
        })
      )
    case '/number-chunk':
      return new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('first part'))
            controller.enqueue(42)
            controller.close()
          },
        })
      )
    case '/detached-chunk': {
      // A chunk whose ArrayBuffer the app transferred after it enqueued it: its bytes are gone.
      const transferred = new Uint8Array(8)
      return new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('first part'))
            controller.enqueue(transferred)
            structuredClone(transferred.buffer, { transfer: [transferred.buffer] })
            controller.close()
          },
        })
      )
    }
    case '/failing-stream':
      // The body fails after its first part went out.
      return new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('first part'))
            setTimeout(() => {
              controller.error(new Error('the archive went away'))
            }, 50)
          },
        })
      )
    case '/failing-right-after': {
      // The body fails on the read that follows its first part, in the same turn.
      let reads = 0
      return new Response(
        new ReadableStream({
          pull(controller) {
            if (reads++ === 0) {
              controller.enqueue(new TextEncoder().encode('first part'))
            } else {
              controller.error(new Error('the archive went away'))
            }
          },
        })
      )
    }
    case '/failing-at-once':
      // The body has failed before node-server could write the head.
      return new Response(
        new ReadableStream({
          start(controller) {
            controller.error(new Error('the archive is unreadable'))
          },
        })
      )
    case '/read-already': {
      // A Response whose body the app has taken (a reader, or text()) cannot be sent again.
      const taken = new Response(streamOf('once'))
      taken.body?.getReader()
      return taken
    }
    case '/no-content-with-length':
      return new Response(null, { status: 204, headers: { 'Content-Length': '5' } })
    case '/repeated-length':
      return new Response('hello', { headers: { 'Content-Length': '5, 5' } })
    default: {
      const big = /^\/big-header\/(\d+)$/.exec(path)?.[1]
      if (big !== undefined) {
        return new Response('big', { headers: { 'X-Big': 'a'.repeat(Number(big)) } })
      }
      return new Response(`ok:${host}`)
    }
  }
}

function streamOf(...parts: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const part of parts) {
        controller.enqueue(new TextEncoder().encode(part))
      }
      controller.close()
    },
  })
}

/** Responses whose headers Node cannot write, as an object or pairs, from a sync or async app. */
const UNWRITABLE_HEADERS = [
  '/bad-header',
  '/bad-header-pairs',
  '/unprintable-header',
  '/bad-header-name',
  '/bad-header-colon',
  '/bad-header-name-pairs',
  '/later/bad-header-pairs',
  '/later/bad-header-name-pairs',
]

let running: RunningProxy | undefined
const reports: { error: Error; context: ErrorContext }[] = []
const sessions: ClientHttp2Session[] = []

beforeEach(async () => {
  reports.length = 0
  running = await startProxy(unruly, {
    onError: (error, context) => reports.push({ error, context }),
  })
})
afterEach(async () => {
  for (const session of sessions.splice(0)) {
    session.destroy()
  }
  await running?.close()
  running = undefined
})

function proxy(): RunningProxy {
  if (!running) {
    throw new Error('no proxy')
  }
  return running
}

/** Absolute-form requests on one kept-alive connection, in order. */
async function onOneConnection(urls: string[]): Promise<{ status: number; body: string }[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const replies: { status: number; body: string }[] = []
  let socket: unknown
  try {
    for (const url of urls) {
      const req = httpRequest({
        host: '127.0.0.1',
        port: proxy().port,
        path: url,
        headers: { host: new URL(url).host },
        agent,
      })
      req.end()
      const [res] = (await once(req, 'response')) as [IncomingMessage]
      socket ??= req.socket
      expect(req.socket).toBe(socket)
      let body = ''
      for await (const chunk of res) {
        body += String(chunk)
      }
      replies.push({ status: res.statusCode ?? 0, body })
    }
  } finally {
    agent.destroy()
  }
  return replies
}

async function h2Session(): Promise<ClientHttp2Session> {
  const { socket } = await connectTunnel(proxy().port, 'example.com:443')
  const tls = tlsConnect({
    socket,
    servername: 'example.com',
    ca: proxy().caPem,
    ALPNProtocols: ['h2'],
  })
  await once(tls, 'secureConnect')
  const session = http2Connect('https://example.com', { createConnection: () => tls })
  sessions.push(session)
  return session
}

/** A GET on `session` that may be reset: the status, what arrived, and the reset's code. */
async function h2Attempt(session: ClientHttp2Session, path: string) {
  const stream = session.request({ ':path': path })
  let status = 0
  let body = ''
  stream.on('response', (headers) => {
    status = Number(headers[':status'])
  })
  stream.on('data', (chunk: Buffer) => {
    body += chunk.toString()
  })
  // 'close' comes after 'error' for a reset stream; once() would reject on the error.
  await new Promise((resolve) => stream.on('error', () => {}).once('close', resolve))
  return { status, body, rstCode: stream.rstCode }
}

const appReports = () => reports.filter((report) => report.context.phase === 'app')

describe("the app's response is input", () => {
  it.each([999, 1000, 600, 199, 100, 103, 101])(
    'answers 502 to status %i over HTTP/1.1, and the next request on the connection is served',
    async (status) => {
      const [bad, next] = await onOneConnection([
        `http://archived.example/status/${status}`,
        'http://bank.example/',
      ])
      expect(bad?.status).toBe(502)
      expect(bad?.body).toMatch(new RegExp(`^Bad Gateway: .*status ${status}`))
      expect(next).toEqual({ status: 200, body: 'ok:bank.example' })
      expect(appReports()[0]?.error.message).toContain(`status ${status}`)
    }
  )

  it.each(['/not-a-response', '/text-not-a-response'])(
    'answers 502 with the reason when the app returns no Response (%s), over HTTP/1.1, HTTP/2 and fetch',
    async (path) => {
      const [bad, next] = await onOneConnection([
        `http://archived.example${path}`,
        'http://bank.example/',
      ])
      expect(bad?.status).toBe(502)
      expect(bad?.body).toMatch(/^Bad Gateway: .*the app returned .*, not a Response\)\n$/)
      expect(next).toEqual({ status: 200, body: 'ok:bank.example' })
      const overH2 = await h2Get(await h2Session(), path)
      expect(overH2.status).toBe(502)
      expect(overH2.body).toMatch(/not a Response/)
      const viaFetch = await proxy().proxy.fetch(new Request(`http://wsgiprox${path}`))
      expect(viaFetch.status).toBe(502)
      expect(appReports().map((report) => report.error.message)).toHaveLength(3)
      expect(appReports()[0]?.error.message).toMatch(/the app returned .*, not a Response/)
    }
  )

  it('serves a Response of the undici package as a Response, over HTTP/1.1, HTTP/2 and fetch', async () => {
    const [made, streamed] = await onOneConnection([
      'http://archived.example/undici-response',
      'http://archived.example/undici-stream',
    ])
    expect(made).toEqual({ status: 201, body: 'from undici' })
    expect(streamed).toEqual({ status: 200, body: 'streamed from undici' })
    const overH2 = await h2Get(await h2Session(), '/undici-response')
    expect(overH2).toMatchObject({ status: 201, body: 'from undici' })
    expect(overH2.headers['x-from']).toBe('undici')
    const viaFetch = await proxy().proxy.fetch(new Request('http://wsgiprox/undici-stream'))
    expect(await viaFetch.text()).toBe('streamed from undici')
    expect(appReports()).toEqual([])
  })

  it.each([
    ['HTTP/1.0', 'GET http://archived.example/unreadable-response HTTP/1.0\r\n\r\n'],
    [
      'a WebSocket upgrade',
      'GET http://archived.example/unreadable-response HTTP/1.1\r\nHost: archived.example\r\n' +
        'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    ],
  ])(
    'answers 502 with the reason to a Response that throws when read, over %s',
    async (_, text) => {
      const reply = await rawExchange(proxy().port, text)
      expect(reply).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/)
      expect(reply).toContain('(a Response that cannot be read)')
      expect(appReports()[0]?.error.message).toContain('a Response that cannot be read')
    }
  )

  it('answers 502 to status 999 over HTTP/1.0', async () => {
    const reply = await rawExchange(
      proxy().port,
      'GET http://archived.example/status/999 HTTP/1.0\r\nHost: archived.example\r\n\r\n'
    )
    expect(reply).toMatch(/^HTTP\/1\.1 502 /)
    expect(reply).toContain('status 999')
  })

  it('answers 502 to status 999 inside a TLS tunnel and serves the next request', async () => {
    const { socket } = await connectTunnel(proxy().port, 'example.com:443')
    const tls = await tlsOverTunnel(socket, 'example.com', proxy().caPem)
    expect((await requestOver(tls, '/status/999')).status).toBe(502)
    const next = await requestOver(tls, '/')
    expect(next.body).toBe('ok:example.com')
  })

  it('answers 502 to statuses outside 200-599 over HTTP/2, and the session goes on', async () => {
    const session = await h2Session()
    for (const status of [999, 1000, 199, 103]) {
      const reply = await h2Get(session, `/status/${status}`)
      expect(reply.status).toBe(502)
    }
    expect((await h2Get(session, '/')).body).toBe('ok:example.com')
  })

  it('drops hop-by-hop headers over HTTP/2 and keeps the rest', async () => {
    const reply = await h2Get(await h2Session(), '/hop-by-hop')
    expect(reply.status).toBe(200)
    expect(reply.body).toBe('hop')
    expect(reply.headers['x-kept']).toBe('yes')
    for (const name of ['keep-alive', 'upgrade', 'proxy-connection', 'te', 'x-private']) {
      expect(reply.headers[name]).toBeUndefined()
    }
  })

  it('drops hop-by-hop headers and a Trailer header over HTTP/1.1', async () => {
    const { socket } = await connectTunnel(proxy().port, 'example.com:443')
    const tls = await tlsOverTunnel(socket, 'example.com', proxy().caPem)
    const reply = await requestOver(tls, '/hop-by-hop')
    expect(reply.status).toBe(200)
    expect(reply.body).toBe('hop')
    expect(reply.headers.trailer).toBeUndefined()
    expect(reply.headers['x-private']).toBeUndefined()
    // Node writes its own Connection and Keep-Alive for the connection it keeps.
    expect(reply.headers.connection).toBe('keep-alive')
    expect(reply.headers['x-kept']).toBe('yes')
    expect((await requestOver(tls, '/')).body).toBe('ok:example.com')
  })

  it.each(['/short-length', '/short-stream'])(
    'cuts a body longer than its Content-Length (%s), so the next host on the connection gets its own answer',
    async (path) => {
      const [archived, bank] = await onOneConnection([
        `http://archived.example${path}`,
        'http://bank.example/',
      ])
      expect(archived).toEqual({ status: 200, body: 'hello' })
      expect(bank).toEqual({ status: 200, body: 'ok:bank.example' })
      expect(appReports()[0]?.error.message).toContain('more than the 5 bytes')
    }
  )

  it('closes the connection after a body shorter than its Content-Length, before any next response', async () => {
    const socket = await rawSocket(proxy().port)
    // Closed well before Node's keep-alive timeout (5 s) would close it.
    const received = closeOf(socket, 'the connection stayed open after the short body')
    socket.write(
      'GET http://archived.example/long-length HTTP/1.1\r\nHost: archived.example\r\n\r\n' +
        'GET http://bank.example/ HTTP/1.1\r\nHost: bank.example\r\n\r\n'
    )
    const reply = (await received).toString('latin1')
    // The pipelined request's answer never follows the short body.
    expect(reply).toMatch(/^HTTP\/1\.1 200 /)
    expect(reply.toLowerCase()).toContain('content-length: 100')
    expect(reply.endsWith('only this')).toBe(true)
    expect(appReports()[0]?.error.message).toContain('ended after 9 of the 100 bytes')
    const [next] = await onOneConnection(['http://bank.example/'])
    expect(next?.body).toBe('ok:bank.example')
  })

  it.each(UNWRITABLE_HEADERS)(
    'answers 502 Bad Gateway with the reason to headers that cannot be written (%s), over HTTP/1.1',
    async (path) => {
      const printed = vi.spyOn(console, 'error')
      try {
        const [bad, next] = await onOneConnection([
          `http://archived.example${path}`,
          'http://bank.example/',
        ])
        expect(bad?.status).toBe(502)
        expect(bad?.body).toMatch(/^Bad Gateway: the app's response could not be sent \(.+\)\n$/)
        expect(next?.body).toBe('ok:bank.example')
        expect(appReports()).toHaveLength(1)
        expect(printed).not.toHaveBeenCalled()
      } finally {
        printed.mockRestore()
      }
    }
  )

  it('writes the 502 with its own reason phrase, not the one of the status the app gave', async () => {
    const reply = await rawExchange(
      proxy().port,
      'GET http://archived.example/bad-header HTTP/1.1\r\nHost: archived.example\r\nConnection: close\r\n\r\n'
    )
    expect(reply).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/)
  })

  it.each(UNWRITABLE_HEADERS)(
    'answers 502 to headers that cannot be written (%s), over HTTP/2, and the session goes on',
    async (path) => {
      const session = await h2Session()
      const bad = await within(h2Get(session, path), `no response head on the stream of ${path}`)
      expect(bad.status).toBe(502)
      expect(bad.body).toMatch(/^Bad Gateway: /)
      expect((await h2Get(session, '/')).body).toBe('ok:example.com')
    }
  )

  it.each(['/unprintable-failure', '/unreadable-message'])(
    'answers 502 to a body that fails oddly before its first byte (%s), tells onError, and prints nothing',
    async (path) => {
      const printed = [vi.spyOn(console, 'error'), vi.spyOn(console, 'info')]
      try {
        const reply = await rawExchange(
          proxy().port,
          `GET http://archived.example${path} HTTP/1.1\r\nHost: archived.example\r\nConnection: close\r\n\r\n`
        )
        expect(reply).toMatch(/^HTTP\/1\.1 502 /)
        expect(reply).toContain(
          'its body failed before its response began: a value that cannot be shown as text'
        )
        expect(appReports()[0]?.error.message).toContain('a value that cannot be shown as text')
        for (const spy of printed) {
          expect(spy).not.toHaveBeenCalled()
        }
      } finally {
        for (const spy of printed) {
          spy.mockRestore()
        }
      }
    }
  )

  it.each([
    ['/number-chunk', 'a chunk that is not bytes (a number)'],
    ['/detached-chunk', 'a chunk whose ArrayBuffer was detached (transferred)'],
  ])(
    'cuts a body that fails oddly (%s) short, tells onError, and prints nothing',
    async (path, told) => {
      const printed = [vi.spyOn(console, 'error'), vi.spyOn(console, 'info')]
      try {
        const reply = await rawExchange(
          proxy().port,
          `GET http://archived.example${path} HTTP/1.1\r\nHost: archived.example\r\n\r\n`
        )
        expect(reply).toMatch(/^HTTP\/1\.1 200 /)
        expect(reply.endsWith('0\r\n\r\n')).toBe(false)
        expect(appReports()[0]?.error.message).toContain(told)
        for (const spy of printed) {
          expect(spy).not.toHaveBeenCalled()
        }
      } finally {
        for (const spy of printed) {
          spy.mockRestore()
        }
      }
    }
  )

  it('ends an HTTP/1.1 response whose body fails midway: the connection closes, nothing is printed', async () => {
    const printed = [vi.spyOn(console, 'error'), vi.spyOn(console, 'info')]
    try {
      const reply = await rawExchange(
        proxy().port,
        'GET http://archived.example/failing-stream HTTP/1.1\r\nHost: archived.example\r\n\r\n'
      )
      expect(reply).toMatch(/^HTTP\/1\.1 200 /)
      expect(reply).toContain('first part')
      // Chunked, and cut before its last chunk: the client can tell it is incomplete.
      expect(reply.toLowerCase()).toContain('transfer-encoding: chunked')
      expect(reply.endsWith('0\r\n\r\n')).toBe(false)
      expect(appReports()[0]?.error.message).toContain('the archive went away')
      for (const spy of printed) {
        expect(spy).not.toHaveBeenCalled()
      }
    } finally {
      for (const spy of printed) {
        spy.mockRestore()
      }
    }
    const [next] = await onOneConnection(['http://bank.example/'])
    expect(next?.body).toBe('ok:bank.example')
  })

  it('sends the part an HTTP/1.1 body sent before it failed, however soon after it failed', async () => {
    const reply = await rawExchange(
      proxy().port,
      'GET http://archived.example/failing-right-after HTTP/1.1\r\nHost: archived.example\r\n\r\n'
    )
    expect(reply).toMatch(/^HTTP\/1\.1 200 /)
    expect(reply).toContain('\r\n\r\na\r\nfirst part\r\n')
    expect(reply.endsWith('0\r\n\r\n')).toBe(false)
    expect(appReports()[0]?.error.message).toContain('the archive went away')
  })

  it('answers 502 with the reason to a body that failed before its head went out, over HTTP/1.1', async () => {
    const [failed, next] = await onOneConnection([
      'http://archived.example/failing-at-once',
      'http://bank.example/',
    ])
    expect(failed?.status).toBe(502)
    expect(failed?.body).toMatch(/^Bad Gateway: .*the archive is unreadable/)
    expect(next).toEqual({ status: 200, body: 'ok:bank.example' })
    expect(appReports()[0]?.error.message).toContain('the archive is unreadable')
  })

  it('answers 502 with the reason to a body that failed before its head went out, over HTTP/2', async () => {
    const session = await h2Session()
    const failed = await h2Get(session, '/failing-at-once')
    expect(failed.status).toBe(502)
    expect(failed.body).toContain('the archive is unreadable')
    expect((await h2Get(session, '/')).body).toBe('ok:example.com')
  })

  it('answers 502 saying why to a Response whose body the app has taken, over HTTP/1.1 and 2', async () => {
    const [taken, next] = await onOneConnection([
      'http://archived.example/read-already',
      'http://bank.example/',
    ])
    expect(taken).toEqual({
      status: 502,
      body: "Bad Gateway: the app's response could not be sent (Invalid state: ReadableStream is locked)\n",
    })
    expect(next?.body).toBe('ok:bank.example')
    const overH2 = await h2Get(await h2Session(), '/read-already')
    expect(overH2.body).toBe(taken?.body)
  })

  it.each(['/failing-at-once', '/failing-stream'])(
    'answers 502 with the reason over HTTP/1.0 to a body that fails while it is held: %s',
    async (path) => {
      // An HTTP/1.0 client gets a Content-Length: nothing went out while the body was read.
      const reply = await rawExchange(
        proxy().port,
        `GET http://archived.example${path} HTTP/1.0\r\nHost: archived.example\r\n\r\n`
      )
      expect(reply).toMatch(/^HTTP\/1\.1 502 /)
      expect(reply).toMatch(/the archive (is unreadable|went away)/)
      expect(reply).not.toContain('first part')
      expect(appReports()).toHaveLength(1)
    }
  )

  it('resets an HTTP/2 stream whose body fails midway with INTERNAL_ERROR, and the session goes on', async () => {
    const session = await h2Session()
    const failed = await h2Attempt(session, '/failing-stream')
    expect(failed.status).toBe(200)
    expect(failed.rstCode).toBe(2) // NGHTTP2_INTERNAL_ERROR: not a clean end
    expect(appReports()[0]?.error.message).toContain('the archive went away')
    expect((await h2Get(session, '/')).body).toBe('ok:example.com')
  })

  it('drops the Content-Length of a 204 and writes a repeated one once, over HTTP/2', async () => {
    const session = await h2Session()
    const empty = await h2Get(session, '/no-content-with-length')
    expect(empty.status).toBe(204)
    expect(empty.headers['content-length']).toBeUndefined()
    const repeated = await h2Get(session, '/repeated-length')
    expect(repeated).toMatchObject({ status: 200, body: 'hello' })
    expect(repeated.headers['content-length']).toBe('5')
    expect((await h2Get(session, '/')).body).toBe('ok:example.com')
  })

  it('answers 502 to headers over HTTP/2 one header block cannot hold, and the session goes on', async () => {
    const session = await h2Session()
    // 60,000 bytes fit in nghttp2's 64 KiB block; 70,000 would make Node end the session.
    expect((await h2Get(session, '/big-header/60000')).status).toBe(200)
    const tooBig = await h2Get(session, '/big-header/70000')
    expect(tooBig.status).toBe(502)
    expect(tooBig.body).toContain('more than the 65536 HTTP/2 sends in one block')
    expect((await h2Get(session, '/')).body).toBe('ok:example.com')
    // The same head goes out over HTTP/1.1, which has no such limit (read raw: Node's own
    // client refuses heads over 16 KiB).
    const overHttp1 = await rawExchange(
      proxy().port,
      'GET http://archived.example/big-header/70000 HTTP/1.1\r\nHost: archived.example\r\nConnection: close\r\n\r\n'
    )
    expect(overHttp1).toMatch(/^HTTP\/1\.1 200 /)
    expect(overHttp1).toContain(`X-Big: ${'a'.repeat(70_000)}\r\n`)
  })

  it.each([999, 101, 100])(
    'answers 502 to status %i given to a WebSocket upgrade the app did not accept',
    async (status) => {
      const reply = await rawExchange(
        proxy().port,
        `GET http://archived.example/status/${status} HTTP/1.1\r\nHost: archived.example\r\n` +
          'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'
      )
      expect(reply).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/)
      expect(appReports()[0]?.error.message).toContain(`answered with status ${status}`)
    }
  )
})

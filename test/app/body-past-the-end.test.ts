/**
 * A body the client will never get: the part past a Content-Length, or any body of a 204, 205 or
 * 304. Its chunks are ready at once (a file, a generated body), so nothing waits between reads:
 * read on and dropped, it would keep the event loop busy for as long as it lasts, and every other
 * client of the proxy waiting.
 */
import type { ClientHttp2Session } from 'node:http2'
import type { ErrorContext } from '../../src/types'
import { h2Get, h2OverTunnel, proxyGet, rawExchange } from '../helpers/clients'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'
import { within } from '../helpers/within'

/** Chunks of 1 KiB in the app's long body: 50 MiB, which takes seconds to read and drop. */
const LONG_BODY_CHUNKS = 50_000

/** How far the proxy read the app's last long body, and whether it let it go. */
const longBody = { pulls: 0, cancelled: Promise.resolve() }

function longStream(): ReadableStream<Uint8Array> {
  const chunk = new TextEncoder().encode('x'.repeat(1024))
  longBody.pulls = 0
  let cancelled = () => {}
  longBody.cancelled = new Promise((resolve) => (cancelled = resolve))
  return new ReadableStream({
    pull(controller) {
      if (++longBody.pulls > LONG_BODY_CHUNKS) {
        controller.close()
      } else {
        controller.enqueue(chunk)
      }
    },
    cancel() {
      cancelled()
    },
  })
}

function app(request: Request): Response {
  const path = new URL(request.url).pathname.replace(/^\/https?:\/\/[^/]+/, '')
  switch (path) {
    case '/past-length':
      return new Response(longStream(), { headers: { 'Content-Length': '5' } })
    case '/no-content':
      return new Response(longStream(), { status: 204 })
    case '/reset-content':
      return new Response(longStream(), { status: 205 })
    case '/reset-content-text':
      // node-server gives a text body its Content-Length, which a 205 cannot have but as 0.
      return new Response('archived form', { status: 205 })
    case '/bad-status':
      return new Response(longStream(), { status: 999 })
    case '/not-modified':
      return new Response(longStream(), { status: 304 })
    default:
      return new Response('ok')
  }
}

let running: RunningProxy
const reports: { error: Error; context: ErrorContext }[] = []
beforeEach(async () => {
  reports.length = 0
  running = await startProxy(app, { onError: (error, context) => reports.push({ error, context }) })
})
afterEach(async () => {
  await running.close()
})

async function h2Session(): Promise<ClientHttp2Session> {
  return (await h2OverTunnel(running.port, running.caPem)).session
}

/** A reply as the assertions show it: a body the client should not get is cut to its start. */
function shown(reply: { status: number; body: string }) {
  const { body } = reply
  return {
    status: reply.status,
    body: body.length > 20 ? `${body.slice(0, 20)}... (${body.length} chars)` : body,
  }
}

/** The app's long body was let go of early: cancelled, and read no further than a few chunks. */
async function expectLetGo(path: string) {
  await within(longBody.cancelled, `the app's body of ${path} was never cancelled`)
  expect(longBody.pulls).toBeLessThan(100)
}

/** The paths whose body the client gets none of or only the start of, with what it gets. */
const UNSENT_BODIES: [string, number, string][] = [
  ['/past-length', 200, 'xxxxx'],
  ['/no-content', 204, ''],
  ['/reset-content', 205, ''],
  ['/not-modified', 304, ''],
]

describe('a body the client will not get is not read to its end', () => {
  it.each(UNSENT_BODIES)('%s over HTTP/1.1', async (path, status, body) => {
    const reply = await proxyGet(running.port, `http://example.com${path}`)
    expect(shown(reply)).toEqual({ status, body })
    await expectLetGo(path)
    expect((await proxyGet(running.port, 'http://example.com/')).body).toBe('ok')
  })

  it.each(UNSENT_BODIES)('%s over HTTP/2, and the session goes on', async (path, status, body) => {
    const session = await h2Session()
    try {
      expect(shown(await h2Get(session, path))).toEqual({ status, body })
      await expectLetGo(path)
      expect(shown(await h2Get(session, '/'))).toEqual({ status: 200, body: 'ok' })
    } finally {
      session.destroy()
    }
  })

  it.each(['HTTP/1.1', 'HTTP/2'])(
    'lets go of the body of a status it answers 502 to, over %s',
    async (version) => {
      const session = version === 'HTTP/2' ? await h2Session() : undefined
      try {
        const reply = session
          ? await h2Get(session, '/bad-status')
          : await proxyGet(running.port, 'http://example.com/bad-status')
        expect(reply.status).toBe(502)
        expect(reply.body).toMatch(/^Bad Gateway: .*status 999/)
        await expectLetGo('/bad-status')
      } finally {
        session?.destroy()
      }
    }
  )

  it('sends a 205 with a text body as Content-Length: 0 over HTTP/1.1, and the next response follows', async () => {
    const reply = await rawExchange(
      running.port,
      'GET http://example.com/reset-content-text HTTP/1.1\r\nHost: example.com\r\n\r\n' +
        'GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n'
    )
    const [first, second] = reply.split(/(?=HTTP\/1\.1 )/)
    expect(first).toMatch(/^HTTP\/1\.1 205 /)
    expect(first?.toLowerCase()).toContain('\r\ncontent-length: 0\r\n')
    expect(first?.endsWith('\r\n\r\n')).toBe(true)
    expect(second).toMatch(/^HTTP\/1\.1 200 [^]*\r\n\r\nok$/)
    expect(reports.map(({ error }) => error.message)).toEqual([
      "The app's 205 (Reset Content) had a body; no 205 carries one, so it was dropped",
    ])
  })

  it('answers a 205 with a text body over HTTP/2, and the session goes on', async () => {
    const session = await h2Session()
    try {
      expect(shown(await h2Get(session, '/reset-content-text'))).toEqual({ status: 205, body: '' })
      expect(shown(await h2Get(session, '/'))).toEqual({ status: 200, body: 'ok' })
    } finally {
      session.destroy()
    }
  })
})

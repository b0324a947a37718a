import { Hono } from 'hono'
import { stream } from 'hono/streaming'
import { once } from 'node:events'
import { readdirSync } from 'node:fs'
import { connect as http2Connect, constants } from 'node:http2'
import type { ClientHttp2Session } from 'node:http2'
import type { Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import type { TLSSocket } from 'node:tls'
import { SESSION_CLOSE_GRACE_MS } from '../../src/inbound/http2-lifecycle'
import type { LogRecord } from '../../src/log/records'
import { createProxy } from '../../src/proxy'
import type { App, ProxyOptions } from '../../src/types'
import { echoApp } from '../helpers/apps'
import { connectTunnel, h2OverTunnel } from '../helpers/clients'
import { frame, PREFACE } from '../helpers/h2-frames'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'
import { within } from '../helpers/within'

let running: RunningProxy | undefined
const clients: { tls: TLSSocket | Socket; session: ClientHttp2Session }[] = []
afterEach(async () => {
  for (const { session, tls } of clients.splice(0)) {
    session.destroy()
    tls.destroy()
  }
  await running?.close()
  running = undefined
})

/** The descriptors this process holds: the proxy's and the test's clients'. */
const openFds = () => readdirSync('/proc/self/fd').length

/** A proxy whose tunnel closings are counted, with a way to wait for `n` of them. */
async function countingProxy(options: ProxyOptions = {}, app: App = echoApp()) {
  let closed = 0
  let waiting: { n: number; resolve: () => void } | undefined
  const onLog = (record: LogRecord) => {
    if (record.type === 'tunnel-close') {
      closed++
      if (waiting && closed >= waiting.n) {
        waiting.resolve()
      }
    }
  }
  running = await startProxy(app, { onLog, ...options })
  /** Resolves once `n` tunnels have closed, or after `ms` (the assertion then tells). */
  const tunnelsClosed = (n: number, ms = 3_000) =>
    new Promise<number>((resolve) => {
      const timer = setTimeout(() => {
        resolve(closed)
      }, ms)
      waiting = {
        n,
        resolve: () => {
          clearTimeout(timer)
          resolve(closed)
        },
      }
      if (closed >= n) {
        waiting.resolve()
      }
    })
  return { proxy: running, tunnelsClosed }
}

/**
 * An HTTP/2 session through CONNECT and TLS, as node:http2 clients open one; with `plain`, with
 * prior knowledge in a plain tunnel.
 */
async function h2Session(proxy: RunningProxy, plain = false) {
  if (plain) {
    const { socket } = await connectTunnel(proxy.port, 'example.com:80')
    const session = http2Connect('http://example.com', { createConnection: () => socket })
    session.on('error', () => {})
    clients.push({ tls: socket, session })
    await once(session, 'remoteSettings')
    return { tls: socket, session }
  }
  const { tls, session } = await h2OverTunnel(proxy.port, proxy.caPem)
  expect(tls.alpnProtocol).toBe('h2')
  session.on('error', () => {})
  clients.push({ tls, session })
  await once(session, 'remoteSettings')
  return { tls, session }
}

/** One GET on `session`: its status and body. */
async function get(session: ClientHttp2Session, path = '/') {
  const req = session.request({ ':path': path })
  let body = ''
  req.setEncoding('utf8')
  req.on('data', (chunk: string) => {
    body += chunk
  })
  const [headers] = (await once(req, 'response')) as [Record<string, unknown>]
  await once(req, 'end')
  return { status: headers[':status'], body }
}

/** The error code of the next GOAWAY `session` receives; `-1` when none came within 3 s. */
function nextGoaway(session: ClientHttp2Session): Promise<number> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      resolve(-1)
    }, 3_000)
    session.once('goaway', (code: number) => {
      clearTimeout(timer)
      resolve(code)
    })
  })
}

describe('http2 session lifecycle', () => {
  it.each([
    ['TLS', false],
    ['a plain tunnel', true],
  ])(
    'gives back the descriptor of a session in %s whose client closes its socket without GOAWAY',
    async (_name, plain) => {
      const { proxy, tunnelsClosed } = await countingProxy()
      const before = openFds()
      const sessions = 20
      for (let i = 0; i < sessions; i++) {
        const { session } = await h2Session(proxy, plain)
        expect((await get(session)).status).toBe(200)
      }
      expect(openFds()).toBeGreaterThanOrEqual(before + 2 * sessions)
      // httpx and curl close the TCP connection without a GOAWAY: the client's FIN.
      const clientsClosed = clients.map(({ tls }) => once(tls, 'close'))
      for (const { tls } of clients) {
        tls.end()
      }
      expect(await tunnelsClosed(sessions)).toBe(sessions)
      await Promise.all(clientsClosed)
      expect(openFds()).toBe(before)
    }
  )

  it.each([
    ['TLS', false],
    ['a plain tunnel', true],
  ])(
    'closes a session in %s at once when its client ends it half way through a frame',
    async (_name, plain) => {
      const { proxy, tunnelsClosed } = await countingProxy()
      const { socket } = await connectTunnel(proxy.port, 'example.com:443')
      const wire = plain
        ? socket
        : tlsConnect({ socket, servername: 'example.com', ca: proxy.caPem, ALPNProtocols: ['h2'] })
      if (!plain) {
        await once(wire, 'secureConnect')
      }
      wire.on('error', () => {})
      wire.resume()
      // The preface and SETTINGS, then a HEADERS frame header that announces 100 bytes and two of
      // them, then the client's FIN (a raw client: node:http2 sends no half frames).
      wire.write(Buffer.concat([PREFACE, frame(0x4, 0, 0)]))
      await once(wire, 'data')
      const start = performance.now()
      wire.end(Buffer.from([0, 0, 100, 1, 4, 0, 0, 0, 1, 1, 2]))
      expect(await tunnelsClosed(1)).toBe(1)
      // No stream is open and the frame can never be completed: nothing is left to wait for.
      expect(performance.now() - start).toBeLessThan(SESSION_CLOSE_GRACE_MS / 2)
    }
  )

  it('closes a session with no stream after the idle timeout, with GOAWAY', async () => {
    const { proxy, tunnelsClosed } = await countingProxy({ http2IdleTimeoutMs: 200 })
    const quiet = await h2Session(proxy)
    const used = await h2Session(proxy)
    expect((await get(used.session)).status).toBe(200)
    const goaways = [nextGoaway(quiet.session), nextGoaway(used.session)]
    expect(await Promise.all(goaways)).toEqual([
      constants.NGHTTP2_NO_ERROR,
      constants.NGHTTP2_NO_ERROR,
    ])
    expect(await tunnelsClosed(2)).toBe(2)
  })

  it('keeps a session whose stream is open but quiet past the idle timeout', async () => {
    const app = new Hono().get('*', (c) =>
      stream(c, async (out) => {
        await out.write('first ')
        // Quiet for three idle timeouts: the stream is open, so the session stays.
        await new Promise((resolve) => setTimeout(resolve, 600))
        await out.write('second')
      })
    )
    const { proxy } = await countingProxy({ http2IdleTimeoutMs: 200 }, app)
    const { session } = await h2Session(proxy)
    expect(await get(session)).toEqual({ status: 200, body: 'first second' })
  })

  it('sends GOAWAY on every session at close()', async () => {
    const { proxy } = await countingProxy()
    const { session } = await h2Session(proxy)
    expect((await get(session)).status).toBe(200)
    const goaway = nextGoaway(session)
    const closed = once(session, 'close')
    await proxy.close()
    running = undefined
    expect(await goaway).toBe(constants.NGHTTP2_NO_ERROR)
    await closed
  })

  it('ends a session after its stream when more tunnels than keepaliveMax are open', async () => {
    const { proxy, tunnelsClosed } = await countingProxy({ keepaliveMax: 1 })
    const first = await h2Session(proxy)
    expect((await get(first.session)).status).toBe(200)
    const second = await h2Session(proxy)
    const goaway = nextGoaway(second.session)
    // Two tunnels open, one allowed: the request is answered, then the session ends.
    expect((await get(second.session)).status).toBe(200)
    expect(await goaway).toBe(constants.NGHTTP2_NO_ERROR)
    expect(await tunnelsClosed(1)).toBe(1)
  })

  it('refuses an idle timeout that is not a positive number of milliseconds', () => {
    expect(() => createProxy(echoApp(), { http2IdleTimeoutMs: 0 })).toThrow(/http2IdleTimeoutMs/)
  })
})

describe('an HTTP/2 upload its client abandons', () => {
  /** A proxy whose app reads the whole body, then answers after `delayMs`; HTTP/1's requestTimeout is `ms`. */
  async function uploadProxy(requestTimeoutMs: number, delayMs = 0) {
    const app = new Hono()
    app.post('*', async (c) => {
      const body = await c.req.text()
      await new Promise((resolve) => setTimeout(resolve, delayMs))
      return c.text(`got ${body.length}`)
    })
    running = await startProxy(app)
    running.server.requestTimeout = requestTimeoutMs
    return h2Session(running)
  }

  /** POST `sent` on `session`, ending the body only with `end`: the status and body. */
  async function post(session: ClientHttp2Session, sent: string, end: boolean) {
    const req = session.request({ ':method': 'POST', ':path': '/up' }, { endStream: false })
    req.on('error', () => {})
    if (end) {
      req.end(sent)
    } else {
      req.write(sent)
    }
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => (body += chunk))
    const [headers] = (await within(
      once(req, 'response'),
      'no answer to a body that stopped coming'
    )) as [Record<string, unknown>]
    await within(once(req, 'close'), 'the stream of the cut upload was left open')
    return { status: headers[':status'], body }
  }

  it("is cut with 408 at the server's requestTimeout, as over HTTP/1.1, and the session goes on", async () => {
    const { session } = await uploadProxy(300)
    const start = performance.now()
    const cut = await post(session, '0123456789', false)
    expect(cut.status).toBe(408)
    expect(cut.body).toBe('The request body did not arrive in time\n')
    expect(performance.now() - start).toBeGreaterThanOrEqual(290)
    expect(await post(session, 'whole', true)).toEqual({ status: 200, body: 'got 5' })
  })

  it('is not cut once the whole body came, however long the app then takes', async () => {
    const { session } = await uploadProxy(200, 600)
    expect(await post(session, 'whole', true)).toEqual({ status: 200, body: 'got 5' })
  })
})

/**
 * Slow clients and clients that stop half way, over HTTP/1.x, on every way in (absolute form,
 * the CONNECT itself, a plain tunnel, a TLS tunnel). A request head sent a byte at a time is
 * served, HTTP/1.0 and 1.1 alike, however far past the tunnel's handshake deadline it runs; a
 * head that never ends gets `408` at Node's `headersTimeout`; an upload its client abandons while
 * the app waits for the body gets `408` at Node's `requestTimeout`. Over HTTP/2, a HEADERS frame
 * trickled a byte at a time gets GOAWAY at `http2IdleTimeoutMs`: bytes that make no frame do not
 * count as activity. Other clients are served meanwhile. The server's timers are shortened here:
 * Node's own are 60 s and 300 s, looked at every 30 s (docs/behaviour.md, "Slow clients").
 */
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { connect as tlsConnect } from 'node:tls'
import { SESSION_CLOSE_GRACE_MS } from '../../src/inbound/http2-lifecycle'
import { createProxy } from '../../src/proxy'
import type { Proxy } from '../../src/types'
import { echoApp } from '../helpers/apps'
import { connectTunnel, proxyGet, rawSocket, tlsOverTunnel } from '../helpers/clients'
import { frame, PREFACE } from '../helpers/h2-frames'
import { testCa } from '../helpers/proxy'
import { closeOf } from '../helpers/within'

/** The time between two bytes of a slow client. */
const PACE_MS = 50
/** A handshake deadline a slow request head runs far past: it must not cut one once it began. */
const HANDSHAKE_MS = 300
/** How long an HTTP/2 session with no stream may go without a frame. */
const H2_IDLE_MS = 1000

let proxy: Proxy | undefined
const sockets: Duplex[] = []
afterEach(async () => {
  for (const socket of sockets.splice(0)) {
    socket.destroy()
  }
  await proxy?.close()
  proxy = undefined
})

/** The echo app behind a proxy on a server with these timers, checked every 50 ms. */
async function start(timers: { headersTimeout: number; requestTimeout: number }) {
  const server: Server = createServer({ ...timers, connectionsCheckingInterval: 50 })
  proxy = createProxy(echoApp(), {
    ca: await testCa(),
    handshakeTimeoutMs: HANDSHAKE_MS,
    http2IdleTimeoutMs: H2_IDLE_MS,
    onError: () => {},
  })
  proxy.attach(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return (server.address() as AddressInfo).port
}

/** A way in: the connection a request goes on, and its request line's target for `path`. */
interface WayIn {
  open: (port: number) => Promise<Duplex>
  target: (path: string) => string
  /** What the app sees of `path`. */
  seen: (path: string) => string
}

const WAYS: [string, WayIn][] = [
  [
    'absolute form',
    {
      open: rawSocket,
      target: (path) => `http://example.com${path}`,
      seen: (path) => `/http://example.com${path}`,
    },
  ],
  [
    'a plain tunnel',
    {
      open: async (port) => (await connectTunnel(port, 'example.com:80')).socket,
      target: (path) => path,
      seen: (path) => `/http://example.com${path}`,
    },
  ],
  [
    'a TLS tunnel',
    {
      open: async (port) => {
        const { socket } = await connectTunnel(port, 'example.com:443')
        return tlsOverTunnel(socket, 'example.com', (await testCa()).certPem)
      },
      target: (path) => path,
      seen: (path) => `/https://example.com${path}`,
    },
  ],
]

/** Open a way in and keep it for afterEach. */
async function opened(way: WayIn, port: number): Promise<Duplex> {
  const socket = await way.open(port)
  sockets.push(socket)
  return socket
}

/** Write `text` a byte at a time, {@link PACE_MS} apart, until done or the socket is gone. */
async function trickle(socket: Duplex, text: string): Promise<void> {
  for (const byte of Buffer.from(text, 'latin1')) {
    if (socket.destroyed || !socket.writable) {
      return
    }
    socket.write(Buffer.from([byte]))
    await new Promise((resolve) => setTimeout(resolve, PACE_MS))
  }
}

/** The status line and body of the one response in `bytes`. */
function answerOf(bytes: Buffer) {
  const text = bytes.toString('latin1')
  return {
    status: text.slice(0, text.indexOf('\r\n')),
    body: text.slice(text.indexOf('\r\n\r\n') + 4),
  }
}

/** A request head that ends the connection after its answer, shortest first. */
const closingHead = (version: string, target: string) =>
  version === '1.0'
    ? `GET ${target} HTTP/1.0\r\nHost: example.com\r\n\r\n`
    : `GET ${target} HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n`

describe('a request head sent a byte at a time', () => {
  it.each(['1.0', '1.1'])(
    'is served over HTTP/%s on every way in, past the handshake deadline, then closed',
    async (version) => {
      const port = await start({ headersTimeout: 60_000, requestTimeout: 300_000 })
      const results = WAYS.map(async ([name, way]) => {
        const socket = await opened(way, port)
        const closed = closeOf(socket, `the slow request through ${name} was left open`, 12_000)
        const sent = performance.now()
        await trickle(socket, closingHead(version, way.target('/slow')))
        expect(performance.now() - sent).toBeGreaterThan(HANDSHAKE_MS * 3)
        const { status, body } = answerOf(await closed)
        expect(status).toBe('HTTP/1.1 200 OK')
        expect(JSON.parse(body)).toMatchObject({ method: 'GET', path: way.seen('/slow') })
      })
      await Promise.all(results)
    },
    20_000
  )

  it('is served when it is the CONNECT itself, and the tunnel then serves as usual', async () => {
    const port = await start({ headersTimeout: 60_000, requestTimeout: 300_000 })
    const socket = await rawSocket(port)
    sockets.push(socket)
    const closed = closeOf(socket, 'the tunnel opened slowly was left open', 12_000)
    await trickle(socket, 'CONNECT example.com:80 HTTP/1.1\r\nHost: example.com:80\r\n\r\n')
    socket.write(closingHead('1.0', '/after'))
    const text = (await closed).toString('latin1')
    expect(text).toMatch(/^HTTP\/1\.1 200 Connection Established\r\n/)
    const { status, body } = answerOf(Buffer.from(text.slice(text.indexOf('\r\n\r\n') + 4)))
    expect(status).toBe('HTTP/1.1 200 OK')
    expect(JSON.parse(body)).toMatchObject({ path: '/http://example.com/after' })
  }, 20_000)
})

describe('a request head that never ends', () => {
  it.each([...WAYS.map(([name]) => name), 'the CONNECT itself'])(
    "gets 408 at the server's headersTimeout through %s",
    async (name) => {
      const port = await start({ headersTimeout: 600, requestTimeout: 5000 })
      const way = WAYS.find(([wayName]) => wayName === name)?.[1]
      const socket = way ? await opened(way, port) : await rawSocket(port)
      sockets.push(socket)
      const closed = closeOf(socket, `the endless head through ${name} was left open`)
      const head = way
        ? `GET ${way.target('/never')} HTTP/1.1\r\nHost: example.com\r\n`
        : 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n'
      void trickle(socket, head + 'X-Slow: '.padEnd(200, 'z'))
      const { status, body } = answerOf(await closed)
      expect(status).toBe('HTTP/1.1 408 Request Timeout')
      expect(body).toBe('The request did not arrive in time\n')
    }
  )
})

describe('an upload its client abandons while the app waits for the body', () => {
  it.each(WAYS.flatMap(([name]) => ['1.0', '1.1'].map((version) => [name, version])))(
    "gets 408 at the server's requestTimeout through %s (HTTP/%s), other clients served meanwhile",
    async (name, version) => {
      const port = await start({ headersTimeout: 500, requestTimeout: 1200 })
      const way = WAYS.find(([wayName]) => wayName === name)?.[1]
      if (!way) {
        throw new Error(`no way in named ${name}`)
      }
      const socket = await opened(way, port)
      const closed = closeOf(socket, `the abandoned upload through ${name} was left open`)
      const sent = performance.now()
      socket.write(
        `POST ${way.target('/up')} HTTP/${version}\r\nHost: example.com\r\n` +
          'Content-Length: 100000\r\n\r\n0123456789'
      )
      // Past the headersTimeout, before the requestTimeout: the upload's connection holds no one up.
      await new Promise((resolve) => setTimeout(resolve, 700))
      const other = await proxyGet(port, 'http://example.com/other')
      expect(other.status).toBe(200)
      expect(socket.destroyed).toBe(false)
      const { status, body } = answerOf(await closed)
      expect(status).toBe('HTTP/1.1 408 Request Timeout')
      expect(body).toBe('The request did not arrive in time\n')
      expect(performance.now() - sent).toBeGreaterThan(1100)
    }
  )
})

const GOAWAY = 0x7

/** The types of the HTTP/2 frames in `bytes`, in order. */
function frameTypes(bytes: Buffer): number[] {
  const types: number[] = []
  for (let at = 0; at + 9 <= bytes.length; at += 9 + bytes.readUIntBE(at, 3)) {
    types.push(bytes[at + 3] ?? -1)
  }
  return types
}

describe('an HTTP/2 HEADERS frame sent a byte at a time', () => {
  it.each(['TLS', 'plain'])(
    'ends the session at http2IdleTimeoutMs in a %s tunnel, and other clients are served',
    async (kind) => {
      const port = await start({ headersTimeout: 60_000, requestTimeout: 300_000 })
      const { socket } = await connectTunnel(port, 'example.com:443')
      const wire =
        kind === 'TLS'
          ? tlsConnect({
              socket,
              servername: 'example.com',
              ca: (await testCa()).certPem,
              ALPNProtocols: ['h2'],
            })
          : socket
      sockets.push(wire)
      if (kind === 'TLS') {
        await once(wire, 'secureConnect')
      }
      // GOAWAY at the idle timeout; a client that keeps sending then has the closing grace.
      const closed = closeOf(
        wire,
        `the trickled HEADERS kept its ${kind} session open`,
        H2_IDLE_MS + SESSION_CLOSE_GRACE_MS + 1000
      )
      const sent = performance.now()
      wire.write(Buffer.concat([PREFACE, frame(0x4, 0, 0)]))
      // The frame announces 200 bytes of header block and gets them one at a time: the bytes
      // keep coming, the frame never does.
      const headers = frame(0x1, 0x4, 1, Buffer.alloc(200, 0x40))
      void trickle(wire, headers.toString('latin1'))
      await new Promise((resolve) => setTimeout(resolve, HANDSHAKE_MS))
      expect((await proxyGet(port, 'http://example.com/other')).status).toBe(200)
      expect(frameTypes(await closed)).toContain(GOAWAY)
      expect(performance.now() - sent).toBeGreaterThan(H2_IDLE_MS - 50)
    }
  )
})

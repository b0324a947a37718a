import { Hono } from 'hono'
import { once } from 'node:events'
import { connect as http2Connect } from 'node:http2'
import type { IncomingHttpHeaders } from 'node:http2'
import { connect as tlsConnect } from 'node:tls'
import { ProxyAuthResolver } from '../src/admission/resolvers'
import type { LogRecord, RequestRecord } from '../src/log/records'
import type { ErrorContext } from '../src/types'
import { echoApp } from './helpers/apps'
import type { Echo } from './helpers/apps'
import {
  connectTunnel,
  h2OverTunnel,
  proxyGet,
  rawExchange,
  rawSocket,
  readHead,
  requestOver,
  tlsOverTunnel,
} from './helpers/clients'
import { frame, PREFACE } from './helpers/h2-frames'
import type { RunningProxy } from './helpers/proxy'
import { startProxy } from './helpers/proxy'
import { socksConnect } from './helpers/socks'
import { within } from './helpers/within'

let running: RunningProxy | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

const basic = (user: string) => `Basic ${Buffer.from(`${user}:pw`).toString('base64')}`
const echoOf = (body: string) => JSON.parse(body) as Echo

/** The reply to an inner CONNECT sent on `socket`, and whether the socket then closed. */
async function innerConnect(socket: NodeJS.ReadWriteStream & { destroyed: boolean }) {
  socket.write(
    `CONNECT other.com:80 HTTP/1.1\r\nHost: other.com:80\r\nProxy-Authorization: ${basic('bob')}\r\n\r\n`
  )
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  await once(socket, 'close')
  return Buffer.concat(chunks).toString('latin1')
}

describe('a tunnel is never re-tunnelled', () => {
  beforeEach(async () => {
    running = await startProxy(echoApp(), { resolver: new ProxyAuthResolver() })
  })

  it('answers 405 to a CONNECT inside a plain tunnel and closes it', async () => {
    const { socket, status } = await connectTunnel(running?.port ?? 0, 'example.com:80', {
      'Proxy-Authorization': basic('alice'),
    })
    expect(status).toBe(200)
    const reply = await innerConnect(socket)
    expect(reply).toMatch(/^HTTP\/1\.1 405 /)
    expect(reply).toContain('CONNECT inside a tunnel is not supported')
    expect(reply).not.toContain('200 Connection Established')
  })

  it('answers 405 to a CONNECT inside a TLS tunnel', async () => {
    const { socket } = await connectTunnel(running?.port ?? 0, 'example.com:443', {
      'Proxy-Authorization': basic('alice'),
    })
    const tls = await tlsOverTunnel(socket, 'example.com', running?.caPem ?? '')
    const reply = await innerConnect(tls)
    expect(reply).toMatch(/^HTTP\/1\.1 405 /)
  })

  it('answers 405 to a CONNECT inside a SOCKS5 tunnel', async () => {
    const { socket, reply } = await socksConnect(running?.port ?? 0, 'example.com', 80, {
      user: 'alice',
      password: 'pw',
    })
    expect(reply).toBe(0)
    expect(await innerConnect(socket)).toMatch(/^HTTP\/1\.1 405 /)
  })
})

describe('a CONNECT stream inside an HTTP/2 tunnel', () => {
  it('gets 405 with its reason, that stream is closed, and the session goes on', async () => {
    running = await startProxy(echoApp(), { prefix: '/' })
    const { session } = await h2OverTunnel(running.port, running.caPem)
    try {
      const stream = session.request({ ':method': 'CONNECT', ':authority': 'other.com:443' })
      let body = ''
      stream.on('data', (chunk: Buffer) => {
        body += chunk.toString()
      })
      const [headers] = (await within(
        once(stream, 'response'),
        'no answer to the CONNECT stream'
      )) as [IncomingHttpHeaders]
      // The client never ends a CONNECT stream's own side: the proxy closes it.
      await within(once(stream, 'close'), 'the CONNECT stream was left open')
      expect(headers[':status']).toBe(405)
      expect(body).toBe('CONNECT inside a tunnel is not supported\n')
      const next = session.request({ ':path': '/after' })
      let text = ''
      next.on('data', (chunk: Buffer) => {
        text += chunk.toString()
      })
      await within(once(next, 'end'), 'no answer on the session after the CONNECT stream')
      expect(echoOf(text).path).toBe('/https://example.com/after')
    } finally {
      session.destroy()
    }
  })
})

/** A HEADERS frame (END_HEADERS, END_STREAM) of literal fields, which need no HPACK table. */
function h2Headers(stream: number, fields: [string, string][]): Buffer {
  const block = fields.map(([name, value]) =>
    Buffer.concat([
      Buffer.from([0, name.length]),
      Buffer.from(name),
      Buffer.from([value.length]),
      Buffer.from(value),
    ])
  )
  return frame(0x1, 0x5, stream, Buffer.concat(block))
}

/** The frames in `bytes` as `type:stream`, with RST_STREAM's error code: `3:1:1`. */
function h2FramesOf(bytes: Buffer): string[] {
  const frames: string[] = []
  for (let at = 0; at + 9 <= bytes.length;) {
    const length = bytes.readUIntBE(at, 3)
    const type = bytes[at + 3] ?? 0
    const stream = bytes.readUInt32BE(at + 5) & 0x7fffffff
    frames.push(type === 0x3 ? `3:${stream}:${bytes.readUInt32BE(at + 9)}` : `${type}:${stream}`)
    at += 9 + length
  }
  return frames
}

describe('an extended CONNECT (RFC 8441) inside an HTTP/2 tunnel', () => {
  it.each([['TLS'], ['plain']])(
    'is reset, never reaches the app, and the session goes on (%s)',
    async (kind) => {
      const paths: string[] = []
      running = await startProxy((request: Request) => {
        paths.push(new URL(request.url).pathname)
        return new Response('ok')
      })
      const { socket } = await connectTunnel(running.port, 'example.com:443')
      const wire =
        kind === 'TLS'
          ? tlsConnect({
              socket,
              servername: 'example.com',
              ca: running.caPem,
              ALPNProtocols: ['h2'],
            })
          : socket
      if (kind === 'TLS') {
        await once(wire, 'secureConnect')
      }
      let received = Buffer.alloc(0)
      wire.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])))
      // The proxy does not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL: a :protocol is malformed.
      wire.write(
        Buffer.concat([
          PREFACE,
          frame(0x4, 0, 0),
          h2Headers(1, [
            [':method', 'CONNECT'],
            [':protocol', 'websocket'],
            [':scheme', 'https'],
            [':path', '/chat'],
            [':authority', 'other.com'],
          ]),
          h2Headers(3, [
            [':method', 'GET'],
            [':scheme', 'https'],
            [':path', '/after'],
            [':authority', 'example.com'],
          ]),
        ])
      )
      try {
        await within(
          (async () => {
            while (!h2FramesOf(received).includes('1:3')) {
              await once(wire, 'data')
            }
          })(),
          'no answer on the stream after the extended CONNECT'
        )
        // RST_STREAM with PROTOCOL_ERROR (1) on the CONNECT; the GET answered.
        expect(h2FramesOf(received)).toContain('3:1:1')
        expect(h2FramesOf(received)).not.toContain('1:1')
        // A plain tunnel is served as http, so its port is shown.
        const url = kind === 'TLS' ? 'https://example.com' : 'http://example.com:443'
        expect(paths).toEqual([`/${url}/after`])
      } finally {
        wire.destroy()
      }
    }
  )
})

describe('what the proxy serves itself', () => {
  it('serves the direct PAC URL for GET and HEAD only; a POST is an ordinary direct request', async () => {
    const reports: ErrorContext[] = []
    running = await startProxy(echoApp(), {
      resolver: new ProxyAuthResolver(),
      onError: (_error, context) => reports.push(context),
    })
    const port = running.port
    const get = await rawExchange(
      port,
      `GET /proxy.pac HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`
    )
    expect(get).toContain('application/x-ns-proxy-autoconfig')
    const head = await rawExchange(
      port,
      `HEAD /proxy.pac HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`
    )
    expect(head).toMatch(/^HTTP\/1\.1 200 /)
    expect(head).toContain('application/x-ns-proxy-autoconfig')
    const post = await rawExchange(
      port,
      `POST /proxy.pac HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`
    )
    const echo = echoOf(post.slice(post.indexOf('\r\n\r\n') + 4))
    expect(echo.path).toBe('/proxy.pac')
    expect(echo.proxyHost).toBeNull()
  })

  it('answers HEAD wherever GET is answered: downloads, and proxy apps falling through', async () => {
    const sub = new Hono().get('/only-get', (c) => c.text('sub'))
    running = await startProxy(echoApp(), { proxyApps: { 'proxy-app-1': sub } })
    const pem = await proxyGet(running.port, 'http://wsgiprox/download/pem', { method: 'HEAD' })
    expect(pem.status).toBe(200)
    expect(pem.headers['content-type']).toBe('application/x-x509-ca-cert')
    const sub200 = await proxyGet(running.port, 'http://proxy-app-1/only-get', { method: 'HEAD' })
    expect(sub200.status).toBe(200)
    const fallthrough = await proxyGet(running.port, 'http://proxy-app-1/other', {
      method: 'HEAD',
    })
    expect(fallthrough.status).toBe(200)
    expect(fallthrough.headers['content-type']).toContain('application/json')
  })

  it('serves the CA downloads and the PAC file through the proxy without credentials', async () => {
    running = await startProxy(echoApp(), { resolver: new ProxyAuthResolver() })
    const pem = await proxyGet(running.port, 'http://wsgiprox/download/pem')
    expect(pem.status).toBe(200)
    expect(pem.body).toContain('BEGIN CERTIFICATE')
    expect((await proxyGet(running.port, 'http://wsgiprox/proxy.pac')).status).toBe(200)
    // Other paths of the proxy host still ask for the login.
    expect((await proxyGet(running.port, 'http://wsgiprox/download/other')).status).toBe(407)
    expect((await proxyGet(running.port, 'http://example.com/')).status).toBe(407)
  })
})

describe('the decision comes before the body', () => {
  it('answers 407 to Expect: 100-continue without a 100 Continue first', async () => {
    running = await startProxy(echoApp(), { resolver: new ProxyAuthResolver() })
    const socket = await rawSocket(running.port)
    socket.write(
      'POST http://example.com/up HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n'
    )
    const head = await readHead(socket)
    expect(head).toMatch(/^HTTP\/1\.1 407 /)
    socket.destroy()
  })

  it('sends 100 Continue once admitted, then serves the body', async () => {
    running = await startProxy(echoApp())
    const socket = await rawSocket(running.port)
    socket.write(
      'POST http://example.com/up HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n'
    )
    expect(await readHead(socket)).toMatch(/^HTTP\/1\.1 100 Continue/)
    socket.write('hello')
    expect(await readHead(socket)).toMatch(/^HTTP\/1\.1 200 /)
    socket.destroy()
  })
})

describe('the decision comes before the body over HTTP/2', () => {
  it('answers a stream with Expect: 100-continue only once admitted', async () => {
    running = await startProxy(echoApp(), {
      resolver: {
        resolve: (url) => `/r/${url}`,
        requireAuth: (request) =>
          new URL(request.url).pathname === '/secret' ? 'secret things' : undefined,
      },
    })
    const { session } = await h2OverTunnel(running.port, running.caPem)
    try {
      const ask = async (path: string) => {
        const stream = session.request({ ':path': path, ':method': 'POST', expect: '100-continue' })
        let continued = false
        stream.on('continue', () => {
          continued = true
          stream.end('hello')
        })
        const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders]
        stream.resume()
        return { status: headers[':status'], continued }
      }
      expect(await ask('/secret')).toEqual({ status: 407, continued: false })
      expect(await ask('/open')).toEqual({ status: 200, continued: true })
    } finally {
      session.destroy()
    }
  })
})

describe('the same request on every protocol', () => {
  it('answers 421 to a request naming another port than its tunnel', async () => {
    running = await startProxy(echoApp())
    const { socket } = await connectTunnel(running.port, 'example.com:443')
    const tls = await tlsOverTunnel(socket, 'example.com', running.caPem)
    const reply = await requestOver(tls, '/x', { host: 'example.com:8443' })
    expect(reply.status).toBe(421)
    expect(reply.body).toBe(
      'Misdirected request: this tunnel is for example.com:443, not example.com:8443\n'
    )
  })

  it('gives the app the same Host and the log the same body bytes over HTTP/1.0, 1.1 and 2', async () => {
    const records: RequestRecord[] = []
    running = await startProxy(echoApp(), {
      onLog: (record: LogRecord) => {
        if (record.type === 'request') {
          records.push(record)
        }
      },
    })
    const port = running.port
    const caPem = running.caPem
    const seen: Echo[] = []
    const bodies: string[] = []

    const h10 = await rawExchange(
      port,
      'GET http://example.com:8000/same HTTP/1.0\r\nHost: example.com:8000\r\n\r\n'
    )
    bodies.push(h10.slice(h10.indexOf('\r\n\r\n') + 4))
    const h11 = await proxyGet(port, 'http://example.com:8000/same')
    bodies.push(h11.body)

    const { socket } = await connectTunnel(port, 'example.com:8000')
    const tls = tlsConnect({ socket, servername: 'example.com', ca: caPem, ALPNProtocols: ['h2'] })
    await once(tls, 'secureConnect')
    const session = http2Connect('https://example.com:8000', { createConnection: () => tls })
    const stream = session.request({ ':path': '/same' })
    const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders]
    expect(headers[':status']).toBe(200)
    let h2 = ''
    for await (const chunk of stream) {
      h2 += String(chunk)
    }
    bodies.push(h2)
    session.destroy()

    for (const body of bodies) {
      seen.push(echoOf(body))
    }
    expect(seen.map((echo) => echo.headers.host)).toEqual([
      'example.com:8000',
      'example.com:8000',
      'example.com:8000',
    ])
    await vi.waitFor(() => {
      expect(records).toHaveLength(3)
    })
    const byVersion = Object.fromEntries(records.map((record) => [record.httpVersion, record]))
    expect(byVersion['1.0']?.bytes).toBe(Buffer.byteLength(bodies[0] ?? ''))
    expect(byVersion['1.1']?.bytes).toBe(Buffer.byteLength(bodies[1] ?? ''))
    expect(byVersion['2.0']?.bytes).toBe(Buffer.byteLength(bodies[2] ?? ''))
  })
})

describe('callbacks whose Promise rejects', () => {
  it('keeps serving when an async onLog and onError reject', async () => {
    let logged = 0
    let told = 0
    running = await startProxy(echoApp(), {
      onLog: async () => {
        logged += 1
        await Promise.resolve()
        throw new Error('the log store is down')
      },
      onError: async (_error, context) => {
        if (context.phase === 'log') {
          told += 1
        }
        await Promise.resolve()
        throw new Error('the error store is down too')
      },
    })
    for (let i = 0; i < 3; i += 1) {
      expect((await proxyGet(running.port, `http://example.com/${i}`)).status).toBe(200)
    }
    await vi.waitFor(() => {
      expect(told).toBe(logged)
    })
    expect(logged).toBeGreaterThanOrEqual(3)
  })
})

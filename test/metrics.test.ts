import type WebSocket from 'ws'
import { EventEmitter, once } from 'node:events'
import { mkdtempSync } from 'node:fs'
import { connect as http2Connect } from 'node:http2'
import type { ClientHttp2Session, IncomingHttpHeaders } from 'node:http2'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { HTTP2_PREFACE } from '../src/inbound/http2-direct'
import type { LogRecord, RequestRecord } from '../src/log/records'
import type { ProxyOptions } from '../src/types'
import { echoApp } from './helpers/apps'
import type { Echo } from './helpers/apps'
import { connectTunnel, proxyGet, rawExchange, rawSocket } from './helpers/clients'
import type { RunningProxy } from './helpers/proxy'
import { startProxy } from './helpers/proxy'
import type { Started } from './helpers/spawn'
import { startListening, TSX_IMPORT } from './helpers/spawn'
import {
  closeSocket,
  echoSocketApp,
  openedHello,
  refusedStatus,
  tunnelledSocket,
} from './helpers/websockets'
import { within } from './helpers/within'

const OPENMETRICS = 'application/openmetrics-text; version=1.0.0; charset=utf-8'

const running: RunningProxy[] = []
let cli: Started | undefined
const sessions: ClientHttp2Session[] = []
const sockets: WebSocket[] = []
afterEach(async () => {
  for (const session of sessions.splice(0)) {
    session.destroy()
  }
  await Promise.all(sockets.splice(0).map(closeSocket))
  await Promise.all(running.splice(0).map((proxy) => proxy.close()))
  await cli?.stop()
  cli = undefined
})

/** A proxy whose app echoes and speaks WebSocket; `records` gets what the user's onLog got. */
async function start(options: ProxyOptions = {}) {
  const records: RequestRecord[] = []
  const seen = new EventEmitter()
  const sockets = echoSocketApp('main')
  const echo = echoApp()
  sockets.all('*', (c) => echo.fetch(c.req.raw))
  const app = {
    fetch(request: Request, env: unknown) {
      if (request.url.endsWith('/boom')) {
        throw new Error('the app failed on purpose')
      }
      return sockets.fetch(request, env)
    },
  }
  const proxy = await startProxy(app, {
    prefix: '/prefix/',
    onLog: (record: LogRecord) => {
      if (record.type === 'request') {
        records.push(record)
        seen.emit('record')
      }
    },
    ...options,
  })
  running.push(proxy)
  /** Resolves once the user's onLog has had `count` request records. */
  const logged = async (count: number) => {
    while (records.length < count) {
      await once(seen, 'record')
    }
  }
  return { ...proxy, records, logged }
}

/** One sample of the exposition `text`: `name{labels} value`, labels in any order. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match?.[1] !== name) {
      continue
    }
    const have = new Map<string, string>()
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) {
      have.set(pair[1] ?? '', pair[2] ?? '')
    }
    if (Object.entries(labels).every(([key, value]) => have.get(key) === value)) {
      return Number(match[3])
    }
  }
  return 0
}

async function scrape(port: number): Promise<string> {
  const reply = await proxyGet(port, 'http://wsgiprox/metrics')
  expect(reply.status).toBe(200)
  expect(reply.headers['content-type']).toBe(OPENMETRICS)
  return reply.body
}

/** Scrape until `wsgiprox_open_connections` is `count`, failing with `failure` if it never is. */
async function gaugeSettles(port: number, count: number, failure: string): Promise<void> {
  const settled = async () => {
    while (sample(await scrape(port), 'wsgiprox_open_connections') !== count) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  await within(settled(), failure)
}

/** One HTTP/2 frame (RFC 9113 §4.1). */
function h2Frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9)
  head.writeUIntBE(payload.length, 0, 3)
  head.writeUInt8(type, 3)
  head.writeUInt8(flags, 4)
  head.writeUInt32BE(stream, 5)
  return Buffer.concat([head, payload])
}

async function h2Get(session: ClientHttp2Session, path: string): Promise<number> {
  const stream = session.request({ ':path': path })
  const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders]
  stream.resume()
  await once(stream, 'end')
  return Number(headers[':status'])
}

describe('metrics', () => {
  it('counts requests of each protocol, tunnels, sessions, certificates and errors', async () => {
    const proxy = await start({ metrics: true })
    const { port, caPem } = proxy

    for (const path of ['/a', '/b', '/c']) {
      expect((await proxyGet(port, `http://example.com${path}`)).status).toBe(200)
    }
    expect((await proxyGet(port, 'http://example.com/boom')).status).toBe(500)
    const ten = await rawExchange(port, 'GET http://example.com/ten HTTP/1.0\r\n\r\n')
    expect(ten).toMatch(/^HTTP\/1\.[01] 200 /)
    const refused = await rawExchange(port, 'GET http://a..b/ HTTP/1.1\r\nHost: a..b\r\n\r\n')
    expect(refused).toMatch(/^HTTP\/1\.1 400 /)
    expect((await proxyGet(port, 'http://wsgiprox/download/pem')).status).toBe(200)

    const tunnel = await connectTunnel(port, 'h2.example.com:443')
    const tls = tlsConnect({
      socket: tunnel.socket,
      servername: 'h2.example.com',
      ca: caPem,
      ALPNProtocols: ['h2'],
    })
    await once(tls, 'secureConnect')
    const session = http2Connect('https://h2.example.com', { createConnection: () => tls })
    sessions.push(session)
    expect(await h2Get(session, '/one')).toBe(200)
    expect(await h2Get(session, '/two')).toBe(200)

    const ws = tunnelledSocket(port, 'wss://ws.example.com/websocket', caPem)
    sockets.push(ws)
    expect((await openedHello(ws)).path).toBe('/prefix/https://ws.example.com/websocket')
    await closeSocket(ws)
    const declined = tunnelledSocket(port, 'ws://ws.example.com/forbidden', caPem)
    sockets.push(declined)
    expect(await refusedStatus(declined)).toBe(403)

    // 3 + 1 + 1 + 1 + 1 over HTTP/1.x, 2 streams, 2 WebSockets.
    await proxy.logged(11)
    const text = await scrape(port)
    const requests = (labels: Record<string, string>) =>
      sample(text, 'wsgiprox_requests_total', labels)
    expect(requests({ protocol: 'http/1.1', status_class: '2xx', route: 'app' })).toBe(3)
    expect(requests({ protocol: 'http/1.1', status_class: '5xx', route: 'app' })).toBe(1)
    expect(requests({ protocol: 'http/1.0', status_class: '2xx', route: 'app' })).toBe(1)
    expect(requests({ protocol: 'http/1.1', status_class: '4xx', route: 'proxy' })).toBe(1)
    expect(requests({ protocol: 'http/1.1', status_class: '2xx', route: 'wsgiprox' })).toBe(1)
    expect(requests({ protocol: 'h2', status_class: '2xx', route: 'app' })).toBe(2)
    expect(requests({ protocol: 'ws', status_class: '1xx', route: 'app' })).toBe(1)
    expect(requests({ protocol: 'ws', status_class: '4xx', route: 'app' })).toBe(1)
    expect(sample(text, 'wsgiprox_admission_refusals_total', { status: '400' })).toBe(1)
    expect(sample(text, 'wsgiprox_errors_total', { phase: 'app' })).toBe(1)
    expect(sample(text, 'wsgiprox_request_duration_seconds_count', { protocol: 'h2' })).toBe(2)
    expect(sample(text, 'wsgiprox_request_duration_seconds_count', { protocol: 'http/1.1' })).toBe(
      6
    )
    expect(sample(text, 'wsgiprox_tunnels_opened_total')).toBe(3)
    // The h2 tunnel is still open; the WebSockets' tunnels have closed.
    expect(sample(text, 'wsgiprox_open_tunnels')).toBe(1)
    expect(sample(text, 'wsgiprox_http2_sessions')).toBe(1)
    expect(
      sample(text, 'wsgiprox_certificates_issued_total', { source: 'signed' })
    ).toBeGreaterThan(0)
    expect(sample(text, 'process_open_fds')).toBeGreaterThan(0)
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0)
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds \S+$/m)

    // The user's own onLog still had every record, the WebSocket ones marked as such.
    expect(proxy.records.filter((record) => record.websocket).map((r) => r.status)).toEqual(
      expect.arrayContaining([101, 403])
    )
    expect(proxy.errors.map((error) => error.message)).toContain('the app failed on purpose')
  })

  it('tells the client connections open now and the body bytes sent, as the clients saw them', async () => {
    const proxy = await start({ metrics: true })
    const { port } = proxy
    const first = await scrape(port)
    const reply = await proxyGet(port, 'http://example.com/bytes')
    await proxy.logged(2)
    const text = await scrape(port)
    expect(sample(text, 'wsgiprox_response_bytes_total', { protocol: 'http/1.1' })).toBe(
      Buffer.byteLength(first) + Buffer.byteLength(reply.body)
    )

    const idle = await Promise.all([rawSocket(port), rawSocket(port), rawSocket(port)])
    const tunnel = await connectTunnel(port, 'example.com:80')
    // Three idle connections, the tunnel and the scrape's own; the closed ones are gone.
    await gaugeSettles(port, 5, 'the open connections did not settle at 5')
    for (const socket of [...idle, tunnel.socket]) {
      socket.destroy()
    }
    await gaugeSettles(port, 1, 'the open connections did not come back to the scrape alone')
  })

  it('counts an HTTP/1 request line that names HTTP/2.0 or HTTP/1.9 as the HTTP/1.1 it is', async () => {
    const proxy = await start({ metrics: true })
    const reply = await rawExchange(
      proxy.port,
      'GET http://example.com/v HTTP/2.0\r\nHost: example.com\r\n\r\n'
    )
    expect(reply).toMatch(/^HTTP\/1\.1 505 /)
    // Refused by the parser for a bad header, and for a version it does not know.
    for (const line of ['GET / HTTP/2.0\r\nBad Header', 'GET http://example.com/ HTTP/1.9']) {
      expect(await rawExchange(proxy.port, `${line}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 400 /)
    }
    await proxy.logged(3)
    const text = await scrape(proxy.port)
    const requests = (labels: Record<string, string>) =>
      sample(text, 'wsgiprox_requests_total', labels)
    expect(text).not.toMatch(/protocol="(h2|http\/1\.9)"/)
    expect(requests({ protocol: 'http/1.1', status_class: '5xx', route: 'proxy' })).toBe(1)
    expect(requests({ protocol: 'http/1.1', status_class: '4xx', route: 'proxy' })).toBe(2)
    expect(sample(text, 'wsgiprox_admission_refusals_total', { status: '505' })).toBe(1)
  })

  it('counts an HTTP/2 session error once, though its socket reports it too', async () => {
    const proxy = await start({ metrics: true })
    const tunnel = await connectTunnel(proxy.port, 'flood.example.com:443')
    const tls = tlsConnect({
      socket: tunnel.socket,
      servername: 'flood.example.com',
      ca: proxy.caPem,
      ALPNProtocols: ['h2'],
    })
    tls.on('error', () => {})
    await once(tls, 'secureConnect')
    const closed = once(tls, 'close')
    tls.resume()
    // A HEADERS frame that never ends, then CONTINUATION frames until Node ends the session
    // (its defence against the CONTINUATION flood, CVE-2024-27983).
    const block = Buffer.from([0x82, 0x84, 0x87, 0x41, 0x01, 0x61])
    tls.write(Buffer.concat([HTTP2_PREFACE, h2Frame(0x4, 0, 0, Buffer.alloc(0))]))
    tls.write(h2Frame(0x1, 0x1, 1, block))
    const continuation = h2Frame(0x9, 0, 1, Buffer.from([0x40, 0x01, 0x78, 0x01, 0x79]))
    for (let i = 0; i < 20_000 && tls.writable; i++) {
      tls.write(continuation)
    }
    await closed
    await vi.waitFor(() => {
      expect(proxy.errors.length).toBeGreaterThan(0)
    })
    // Whatever else settles, after the tunnel is gone.
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(proxy.errors.map((error) => error.message)).toEqual([
      'Too many CONTINUATION frames following a HEADER frame',
    ])
    const text = await scrape(proxy.port)
    const counted = text.split('\n').filter((line) => line.startsWith('wsgiprox_errors_total{'))
    expect(counted.map((line) => Number(line.split(' ').at(-1)))).toEqual([1])
  })

  it('is served as OpenMetrics text ending in # EOF, to GET and HEAD only', async () => {
    const { port } = await start({ metrics: true })
    const text = await scrape(port)
    expect(text).toMatch(/^# TYPE wsgiprox_requests counter$/m)
    expect(text.endsWith('# EOF\n')).toBe(true)
    const head = await proxyGet(port, 'http://wsgiprox/metrics', { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers['content-type']).toBe(OPENMETRICS)
    // Other methods go on to the main app, as any proxy-host request it does not serve.
    const post = await proxyGet(port, 'http://wsgiprox/metrics', { method: 'POST', body: 'x' })
    expect((JSON.parse(post.body) as Echo).path).toBe('/metrics')
  })

  it('is off by default: the request reaches the main app', async () => {
    const { port } = await start()
    const reply = await proxyGet(port, 'http://wsgiprox/metrics')
    expect(reply.status).toBe(200)
    expect(reply.headers['content-type']).not.toBe(OPENMETRICS)
    expect((JSON.parse(reply.body) as Echo).proxyHost).toBe('wsgiprox')
  })

  it('is not served on a direct request to the proxy address, which is the main app', async () => {
    const { url } = await start({ metrics: true })
    const reply = await fetch(`${url}/metrics`)
    expect(reply.headers.get('content-type')).not.toBe(OPENMETRICS)
    expect(((await reply.json()) as Echo).path).toBe('/metrics')
  })

  it('keeps the figures of two proxies in one process apart', async () => {
    const first = await start({ metrics: true })
    const second = await start({ metrics: true })
    await proxyGet(first.port, 'http://example.com/only-first')
    await first.logged(1)
    const label = { protocol: 'http/1.1', status_class: '2xx', route: 'app' }
    expect(sample(await scrape(first.port), 'wsgiprox_requests_total', label)).toBe(1)
    expect(sample(await scrape(second.port), 'wsgiprox_requests_total', label)).toBe(0)
  })

  it('is served by the CLI with --metrics, which names the scrape in its banner', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-metrics-'))
    const main = resolve(import.meta.dirname, '../src/cli/index.ts')
    cli = await startListening(['--import', TSX_IMPORT, main, '--port', '0', '--metrics'], { cwd })
    expect((await proxyGet(cli.port, 'http://example.com/')).status).toBe(200)
    const text = await scrape(cli.port)
    expect(sample(text, 'wsgiprox_requests_total', { protocol: 'http/1.1' })).toBe(1)
    expect(cli.output()).toContain(
      `metrics: curl -x http://127.0.0.1:${cli.port} http://wsgiprox/metrics`
    )
  }, 30_000)
})

import { once } from 'node:events'
import { constants, connect as http2Connect } from 'node:http2'
import { connect as tlsConnect } from 'node:tls'
import { ProxyAuthResolver } from '../src/admission/resolvers'
import type { LogRecord, RequestRecord, TunnelEventRecord } from '../src/log/records'
import { echoApp } from './helpers/apps'
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
import type { RunningProxy } from './helpers/proxy'
import { startProxy } from './helpers/proxy'
import { within } from './helpers/within'

let running: RunningProxy | undefined
let records: LogRecord[] = []
afterEach(async () => {
  await running?.close()
  running = undefined
  records = []
})

const requests = () =>
  records.filter((record): record is RequestRecord => record.type === 'request')

/** The credentials a `ProxyAuthResolver` takes, for user `coll`. */
const LOGIN = { 'Proxy-Authorization': `Basic ${Buffer.from('coll:').toString('base64')}` }

/** A proxy that asks for a login (`ProxyAuthResolver`), its records kept in `records`. */
function startWithLogin(): Promise<RunningProxy> {
  return startProxy(echoApp(), {
    resolver: new ProxyAuthResolver(),
    onLog: (record) => records.push(record),
  })
}

/** Wait until `count` request records arrived: they are written when each response closes. */
async function requestRecords(count: number): Promise<RequestRecord[]> {
  for (let i = 0; i < 100 && requests().length < count; i++) {
    await new Promise((resolve) => setImmediate(resolve))
  }
  return requests()
}

describe('onLog', () => {
  it('records an absolute-form request: client, URL, translated path, route, status, bytes', async () => {
    running = await startProxy(echoApp(), {
      prefix: '/p/',
      onLog: (record) => records.push(record),
    })
    const reply = await proxyGet(running.port, 'http://example.com/a?b')
    const [record] = await requestRecords(1)
    expect(record).toMatchObject({
      type: 'request',
      client: { address: '127.0.0.1' },
      method: 'GET',
      url: 'http://example.com/a?b',
      path: '/p/http://example.com/a?b',
      route: 'app',
      status: 200,
      httpVersion: '1.1',
      tunnel: undefined,
      aborted: false,
    })
    // No Content-Length here: what the connection wrote for the response, head included.
    expect(record?.bytes).toBe(Buffer.byteLength(reply.body))
    expect(record?.time).toBeInstanceOf(Date)
    expect(record?.durationMs).toBeGreaterThanOrEqual(0)
  })

  it('records proxy-host routes, passthrough and the proxy’s own refusals', async () => {
    running = await startProxy(echoApp(), {
      resolver: new ProxyAuthResolver(),
      onLog: (record) => records.push(record),
    })
    await proxyGet(running.port, 'http://example.com/')
    await rawExchange(
      running.port,
      'GET /direct HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'
    )
    const basic = `Basic ${Buffer.from('coll:').toString('base64')}`
    await proxyGet(running.port, 'http://wsgiprox/x', { headers: { 'proxy-authorization': basic } })
    const seen = await requestRecords(3)
    expect(seen.map((record) => [record.route, record.status, record.path])).toEqual([
      ['proxy', 407, undefined],
      ['passthrough', 200, '/direct'],
      ['wsgiprox', 200, '/x'],
    ])
  })

  it('records tunnels, their TLS and ALPN, and the certificates issued', async () => {
    running = await startProxy(echoApp(), { onLog: (record) => records.push(record) })
    const { socket } = await connectTunnel(running.port, 'logged.example:443')
    const tls = await tlsOverTunnel(socket, 'logged.example', running.caPem)
    await requestOver(tls, '/in', { host: 'logged.example' })
    tls.destroy()
    await once(socket, 'close')
    const h2 = tlsConnect({
      socket: (await connectTunnel(running.port, 'logged.example:443')).socket,
      servername: 'logged.example',
      ca: running.caPem,
      ALPNProtocols: ['h2'],
    })
    await once(h2, 'secureConnect')
    const session = http2Connect('https://logged.example', { createConnection: () => h2 })
    const stream = session.request({ ':path': '/h2' })
    stream.resume()
    await once(stream, 'end')
    session.destroy()
    const all = await requestRecords(2)
    expect(all.map((record) => [record.httpVersion, record.tunnel])).toEqual([
      ['1.1', { host: 'logged.example', port: 443, tls: true, alpn: 'http/1.1' }],
      ['2.0', { host: 'logged.example', port: 443, tls: true, alpn: 'h2' }],
    ])
    for (let i = 0; i < 100 && records.filter((r) => r.type === 'tunnel-close').length < 2; i++) {
      await new Promise((resolve) => setImmediate(resolve))
    }
    const tunnels = records.filter(
      (record): record is TunnelEventRecord =>
        record.type !== 'request' && record.type !== 'certificate'
    )
    expect(tunnels.map((record) => [record.type, record.host, record.alpn])).toEqual(
      expect.arrayContaining([
        ['tunnel-open', 'logged.example', undefined],
        ['tunnel-close', 'logged.example', 'http/1.1'],
        ['tunnel-close', 'logged.example', 'h2'],
      ])
    )
    expect(records.filter((record) => record.type === 'certificate')).toEqual([
      expect.objectContaining({ type: 'certificate', name: 'logged.example', source: 'signed' }),
    ])
  })

  it('counts the body bytes of the proxy’s own replies over HTTP/1.1 and HTTP/2, none for HEAD', async () => {
    running = await startWithLogin()
    const challenged = await proxyGet(running.port, 'http://example.com/')
    const { socket } = await connectTunnel(running.port, 'example.com:443', LOGIN)
    const tls = await tlsOverTunnel(socket, 'example.com', running.caPem)
    const misdirected = await requestOver(tls, '/x', { host: 'other.example' })
    const { session } = await h2OverTunnel(running.port, running.caPem, 'example.com', LOGIN)
    const stream = session.request({ ':path': '/x', ':authority': 'other.example' })
    let h2Body = ''
    stream.setEncoding('utf8').on('data', (chunk: string) => (h2Body += chunk))
    await once(stream, 'end')
    // HEAD: the same replies, without their bodies.
    await proxyGet(running.port, 'http://example.com/', { method: 'HEAD' })
    const head = session.request({
      ':method': 'HEAD',
      ':path': '/x',
      ':authority': 'other.example',
    })
    head.resume()
    await once(head, 'end')
    session.destroy()
    const seen = await requestRecords(5)
    expect(seen.map((record) => [record.httpVersion, record.status, record.bytes])).toEqual([
      ['1.1', 407, Buffer.byteLength(challenged.body)],
      ['1.1', 421, Buffer.byteLength(misdirected.body)],
      ['2.0', 421, Buffer.byteLength(h2Body)],
      ['1.1', 407, 0],
      ['2.0', 421, 0],
    ])
  })

  it('gives a request refused inside a tunnel the full URL of the tunnel’s origin', async () => {
    running = await startProxy(echoApp(), { onLog: (record) => records.push(record) })
    const { socket } = await connectTunnel(running.port, 'example.com:8443')
    const tls = await tlsOverTunnel(socket, 'example.com', running.caPem)
    expect((await requestOver(tls, '/x?y', { host: 'other.example' })).status).toBe(421)
    const { session } = await h2OverTunnel(running.port, running.caPem)
    const stream = session.request({ ':path': '/z', ':authority': 'other.example' })
    stream.resume()
    await once(stream, 'end')
    session.destroy()
    const seen = await requestRecords(2)
    expect(seen.map((record) => [record.url, record.status, record.path])).toEqual([
      ['https://example.com:8443/x?y', 421, undefined],
      ['https://example.com/z', 421, undefined],
    ])
  })

  it('records a CONNECT the proxy challenged or refused, and one inside a tunnel', async () => {
    running = await startWithLogin()
    const challenged = await connectTunnel(running.port, 'example.com:443')
    const invalid = await connectTunnel(running.port, 'exa$mple.com:443', LOGIN)
    const { socket } = await connectTunnel(running.port, 'example.com:80', LOGIN)
    socket.write('CONNECT other.example:443 HTTP/1.1\r\nHost: other.example:443\r\n\r\n')
    const nested = await readHead(socket)
    expect([challenged.status, invalid.status, nested.split(' ')[1]]).toEqual([407, 400, '405'])
    const seen = await requestRecords(3)
    expect(seen.map((record) => [record.method, record.url, record.status, record.route])).toEqual([
      ['CONNECT', 'example.com:443', 407, 'proxy'],
      ['CONNECT', 'exa$mple.com:443', 400, 'proxy'],
      ['CONNECT', 'other.example:443', 405, 'proxy'],
    ])
    expect(seen.map((record) => record.tunnel?.host)).toEqual([undefined, undefined, 'example.com'])
    expect(seen.every((record) => record.bytes !== undefined && record.bytes > 0)).toBe(true)
  })

  it('records a CONNECT inside an HTTP/2 tunnel with its target, as over HTTP/1.1', async () => {
    running = await startProxy(echoApp(), { onLog: (record) => records.push(record) })
    const { session } = await h2OverTunnel(running.port, running.caPem)
    const stream = session.request({ ':method': 'CONNECT', ':authority': 'other.example:443' })
    stream.on('error', () => {})
    const [headers] = (await once(stream, 'response')) as [Record<string, unknown>]
    expect(headers[':status']).toBe(405)
    const [record] = await requestRecords(1)
    session.destroy()
    expect(record).toMatchObject({ method: 'CONNECT', url: 'other.example:443', status: 405 })
  })

  it('records a request whose client left while admission decided, as aborted', async () => {
    let decide: () => void = () => {}
    const decided = new Promise<void>((resolve) => (decide = resolve))
    let asked: () => void = () => {}
    const asking = new Promise<void>((resolve) => (asked = resolve))
    // A login check that answers only once the test says so: the clients leave before. (The
    // CONNECT of the HTTP/2 tunnel, asked about its origin's /, is let through.)
    const resolver = {
      requireAuth: async (request: Request) => {
        if (new URL(request.url).pathname === '/') {
          return undefined
        }
        asked()
        await decided
        // The stream is asked for a login it will never see.
        return request.url.endsWith('/h2') ? 'realm' : undefined
      },
      resolve: (url: string) => `/x/${url}`,
    }
    running = await startProxy(echoApp(), { resolver, onLog: (record) => records.push(record) })
    const socket = await rawSocket(running.port)
    socket.write('GET http://example.com/h1 HTTP/1.1\r\nHost: example.com\r\n\r\n')
    await asking
    socket.destroy()
    await once(socket, 'close')
    const { session } = await h2OverTunnel(running.port, running.caPem)
    const stream = session.request({ ':path': '/h2' })
    stream.on('error', () => {})
    // Give the stream time to reach the proxy, then cancel it.
    await new Promise((resolve) => setTimeout(resolve, 50))
    stream.close(constants.NGHTTP2_CANCEL)
    await new Promise((resolve) => setTimeout(resolve, 50))
    decide()
    const seen = await requestRecords(2)
    session.destroy()
    // 499, as nginx logs a request its client closed before it was answered (the app never saw
    // it); the stream's 407, the proxy's own decision, though it could not be sent.
    expect(seen.map((record) => [record.url, record.status, record.aborted, record.bytes])).toEqual(
      [
        ['http://example.com/h1', 499, true, 0],
        ['https://example.com/h2', 407, true, 0],
      ]
    )
  })

  it('marks an HTTP/2 stream the client cancelled as aborted', async () => {
    let cancelled: () => void = () => {}
    const gone = new Promise<void>((resolve) => (cancelled = resolve))
    // A body that never ends: only the client's RST_STREAM ends this response.
    const endless = () =>
      new Response(
        new ReadableStream({
          pull: (controller) => {
            controller.enqueue(new Uint8Array(1000))
            return new Promise((resolve) => setTimeout(resolve, 10))
          },
          cancel: () => {
            cancelled()
          },
        })
      )
    running = await startProxy(endless, { onLog: (record) => records.push(record) })
    const { session } = await h2OverTunnel(running.port, running.caPem)
    const stream = session.request({ ':path': '/endless' })
    await once(stream, 'data')
    stream.close(constants.NGHTTP2_CANCEL)
    await gone
    const [record] = await requestRecords(1)
    session.destroy()
    expect(record).toMatchObject({ status: 200, httpVersion: '2.0', aborted: true })
  })

  it.each(['body fails', 'body short of its Content-Length'])(
    'marks a response the proxy cut short (%s) as aborted, over HTTP/1.1 and HTTP/2',
    async (how) => {
      // Part of a body goes out, then the app's stream fails or ends early: the client gets
      // an incomplete response, and the record must not call it complete.
      const cutApp = () =>
        new Response(
          new ReadableStream({
            async pull(controller) {
              controller.enqueue(new TextEncoder().encode('part'))
              await new Promise((resolve) => setTimeout(resolve, 20))
              if (how === 'body fails') {
                controller.error(new Error('the stream broke'))
              } else {
                controller.close()
              }
            },
          }),
          how === 'body fails' ? {} : { headers: { 'content-length': '100' } }
        )
      running = await startProxy(cutApp, {
        onLog: (record) => records.push(record),
        onError: () => {},
      })
      const socket = await rawSocket(running.port)
      socket.write('GET http://example.com/h1 HTTP/1.1\r\nHost: example.com\r\n\r\n')
      socket.resume()
      await within(once(socket, 'close'), 'the cut connection did not close')
      const { session } = await h2OverTunnel(running.port, running.caPem)
      const stream = session.request({ ':path': '/h2' })
      // Reset with INTERNAL_ERROR: 'error' then 'close' (events.once would reject on the error).
      const closed = new Promise((resolve) => stream.once('close', resolve))
      stream.on('error', () => {})
      stream.resume()
      await within(closed, 'the cut stream did not close')
      session.destroy()
      const seen = await requestRecords(2)
      expect(seen.map((record) => [record.url, record.status, record.aborted])).toEqual([
        ['http://example.com/h1', 200, true],
        ['https://example.com/h2', 200, true],
      ])
    }
  )

  it('records 499 for a request the app never answered before its client left', async () => {
    let asked: () => void = () => {}
    const asking = new Promise<void>((resolve) => (asked = resolve))
    // An app that never answers: no status line goes out, over HTTP/1.1 or HTTP/2.
    const silent = () => {
      asked()
      return new Promise<Response>(() => {})
    }
    running = await startProxy(silent, { onLog: (record) => records.push(record) })
    const socket = await rawSocket(running.port)
    socket.write('GET http://example.com/h1 HTTP/1.1\r\nHost: example.com\r\n\r\n')
    await asking
    socket.destroy()
    const { session } = await h2OverTunnel(running.port, running.caPem)
    const reached = new Promise<void>((resolve) => (asked = resolve))
    const stream = session.request({ ':path': '/h2' })
    stream.on('error', () => {})
    await reached
    stream.close(constants.NGHTTP2_CANCEL)
    const seen = await requestRecords(2)
    session.destroy()
    expect(seen.map((record) => [record.url, record.status, record.aborted])).toEqual([
      ['http://example.com/h1', 499, true],
      ['https://example.com/h2', 499, true],
    ])
  })

  it('times a request from its arrival, the wait for an async resolver included', async () => {
    const WAIT_MS = 300
    const resolver = async (url: string) => {
      await new Promise((resolve) => setTimeout(resolve, WAIT_MS))
      return `/slow/${url}`
    }
    running = await startProxy(echoApp(), { resolver, onLog: (record) => records.push(record) })
    const sent = Date.now()
    expect((await proxyGet(running.port, 'http://example.com/slow')).status).toBe(200)
    const [record] = await requestRecords(1)
    // Timers may fire a millisecond early; the record's clock is the proxy's own.
    expect(record?.durationMs).toBeGreaterThanOrEqual(WAIT_MS - 5)
    expect(record?.time.getTime()).toBeLessThan(sent + WAIT_MS / 2)
  })

  it('survives an onLog that throws', async () => {
    running = await startProxy(echoApp(), {
      onLog: () => {
        throw new Error('broken logger')
      },
    })
    expect((await proxyGet(running.port, 'http://example.com/')).status).toBe(200)
    expect((await proxyGet(running.port, 'http://example.com/again')).status).toBe(200)
  })

  it('survives an onLog whose answer throws when its then is read', async () => {
    const errors: string[] = []
    let toldBoth = () => {}
    const both = new Promise<void>((resolve) => (toldBoth = resolve))
    running = await startProxy(echoApp(), {
      onLog: () => ({
        get then(): never {
          throw new Error('then getter')
        },
      }),
      onError: (error, context) => {
        errors.push(`${context.phase}: ${error.message}`)
        if (errors.length === 2) {
          toldBoth()
        }
      },
    })
    expect((await proxyGet(running.port, 'http://example.com/')).status).toBe(200)
    expect((await proxyGet(running.port, 'http://example.com/again')).status).toBe(200)
    await within(both, 'onError was not told of both records')
    expect(errors).toEqual(['log: then getter', 'log: then getter'])
  })
})

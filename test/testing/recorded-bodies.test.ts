/**
 * The request bodies `proxy.requests` keeps where the app's Fetch `Request` differs from what the
 * client sent: a body on a GET or HEAD (legal, though Fetch gives the app none), and a body the
 * client cut off by leaving mid-way.
 */
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { request as httpRequest } from 'node:http'
import type { IncomingMessage } from 'node:http'
import { promisify } from 'node:util'
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib'
import { startProxy } from '../../src/testing/start-proxy'
import type { TestProxy } from '../../src/testing/start-proxy'
import { connectTunnel, rawSocket, tlsOverTunnel } from '../helpers/clients'
import { missing, toolPath } from '../helpers/tools'
import { closeOf, within } from '../helpers/within'

let proxy: TestProxy | undefined
afterEach(async () => {
  await proxy?.close()
  proxy = undefined
})

/** Something that happens once, and the promise of it. */
function signal(): { happened: Promise<void>; happen: () => void } {
  let happen!: () => void
  const happened = new Promise<void>((resolve) => (happen = resolve))
  return { happened, happen }
}

describe('the body of a GET or HEAD, in proxy.requests', () => {
  it.each(['GET', 'HEAD'])('keeps what a Node client sent with a %s', async (method) => {
    proxy = await startProxy(
      (request) => new Response(null, { headers: { 'x-body': String(request.body === null) } })
    )
    const { port } = proxy
    const query = '{"query":{"match_all":{}}}'
    // Node's client frames a GET's body only when told its length: without it, it sends none.
    const request = httpRequest({
      host: '127.0.0.1',
      port,
      method,
      path: 'http://search.example.com/_search',
      headers: { 'content-type': 'application/json', 'content-length': query.length },
    })
    request.end(query)
    const [response] = (await once(request, 'response')) as [IncomingMessage]
    response.resume()
    await once(response, 'end')
    // Fetch gives the app no body for a GET or HEAD; the record has what the client sent.
    expect(response.headers['x-body']).toBe('true')
    const [search] = proxy.requests
    expect(await search?.body?.json()).toEqual({ query: { match_all: {} } })
    expect(await search?.body?.truncated()).toBe(false)
  })

  it.skipIf(missing('curl'))(
    'keeps what curl sent with a GET over HTTPS, on HTTP/1.1 and HTTP/2',
    async () => {
      proxy = await startProxy(() => new Response('ok'))
      const curl = (...args: string[]) =>
        promisify(execFile)(toolPath('curl'), ['-sS', ...args], {
          env: { ...process.env, ...proxy?.env },
        })
      await curl('--http1.1', '-X', 'GET', '--data', 'one', 'https://search.example.com/1')
      await curl('--http2', '-X', 'GET', '--data', 'two', 'https://search.example.com/2')
      const bodies = await Promise.all(
        proxy.requests.map(async (r) => `${r.method} ${r.httpVersion} ${await r.body?.text()}`)
      )
      expect(bodies).toEqual(['GET 1.1 one', 'GET 2.0 two'])
    }
  )
})

describe('a body the client cut off, in proxy.requests', () => {
  /** Send `framing` and `sent` of a POST to an app that reads the body, then leave. */
  async function leaveMidBody(framing: string, sent: string): Promise<TestProxy> {
    const arrived = signal()
    const started = await startProxy(async (request) => {
      arrived.happen()
      return new Response(await request.text())
    })
    const socket = await rawSocket(started.port)
    socket.on('error', () => {})
    socket.write(
      `POST http://uploads.example.com/files HTTP/1.1\r\nhost: uploads.example.com\r\n${framing}\r\n${sent}`
    )
    await within(arrived.happened, 'the app was not called')
    socket.destroy()
    const { requests } = started
    await vi.waitFor(() => {
      expect(requests.length).toBeGreaterThan(0)
    })
    return started
  }

  it.each([
    ['Content-Length', 'content-length: 100\r\n', '0123456789'],
    ['chunked', 'transfer-encoding: chunked\r\n', 'a\r\n0123456789\r\n'],
  ])('says it is truncated when the %s body ends with the connection', async (_, framing, sent) => {
    proxy = await leaveMidBody(framing, sent)
    const [upload] = proxy.requests
    expect(await upload?.body?.text()).toBe('0123456789')
    expect(await upload?.body?.truncated()).toBe(true)
    await expect(upload?.body?.json()).rejects.toThrow(/the client left before the body ended/)
  })

  it('lists the request once, as aborted, and no 400 the proxy answered to nobody', async () => {
    proxy = await leaveMidBody('content-length: 100\r\n', '0123456789')
    // Closed, the proxy has made every record it will: a second one would be there by now.
    await proxy.close()
    expect(proxy.requests.map((r) => `${r.method} ${r.status} ${r.aborted}`)).toEqual([
      'POST 499 true',
    ])
  })
})

describe('a pipelined request cut off behind one that came whole', () => {
  it.each(['plain HTTP', 'HTTPS in a tunnel'])(
    'answers the first over %s, then closes, and lists the second as aborted',
    async (way) => {
      proxy = await startProxy(async (request) => {
        if (request.url.endsWith('/slow')) {
          await new Promise((resolve) => setTimeout(resolve, 300))
          return new Response('slow answer')
        }
        return new Response(await request.text())
      })
      const plain = way === 'plain HTTP'
      const origin = plain ? 'http://uploads.example.com' : ''
      const socket = plain
        ? await rawSocket(proxy.port)
        : await tlsOverTunnel(
            (await connectTunnel(proxy.port, 'uploads.example.com:443')).socket,
            'uploads.example.com',
            proxy.ca.pem
          )
      const closed = closeOf(socket, 'the connection stayed open after the first answer')
      // The client ends its side mid-way through the second body, and still reads: the first
      // answer was lost (a 400 to nobody before 96e569d, a destroyed connection after it).
      socket.end(
        `GET ${origin}/slow HTTP/1.1\r\nhost: uploads.example.com\r\n\r\n` +
          `POST ${origin}/files HTTP/1.1\r\nhost: uploads.example.com\r\ncontent-length: 100\r\n\r\nabc`
      )
      const received = (await closed).toString('latin1')
      expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nslow answer$/)
      await proxy.close()
      expect(proxy.requests.map((r) => `${r.method} ${r.status} ${r.aborted}`)).toEqual([
        'GET 200 false',
        'POST 499 true',
      ])
    }
  )
})

describe('an encoded upload, in proxy.requests', () => {
  const event = { name: 'signup', at: 1 }
  const encoders = {
    gzip: gzipSync,
    deflate: deflateSync,
    br: brotliCompressSync,
    'gzip, br': (bytes: Buffer) => brotliCompressSync(gzipSync(bytes)),
  }

  it.each(Object.keys(encoders) as (keyof typeof encoders)[])(
    'gives text() and json() of a %s body decoded, and bytes() as sent',
    async (coding) => {
      proxy = await startProxy(() => new Response(null, { status: 204 }))
      const sent = encoders[coding](Buffer.from(JSON.stringify(event)))
      await fetch('https://telemetry.example.com/v1/events', {
        ...proxy.fetchInit,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': coding },
        body: sent,
      })
      const [upload] = proxy.requests
      expect(await upload?.body?.json()).toEqual(event)
      expect(await upload?.body?.text()).toBe(JSON.stringify(event))
      expect(Buffer.from((await upload?.body?.bytes()) ?? [])).toEqual(sent)
    }
  )

  it('says which coding it cannot decode, and one it recorded only in part', async () => {
    proxy = await startProxy(() => new Response(null, { status: 204 }), { recordBodyLimit: 8 })
    for (const coding of ['zstd', 'gzip']) {
      await fetch('https://telemetry.example.com/v1/events', {
        ...proxy.fetchInit,
        method: 'POST',
        headers: { 'content-encoding': coding },
        body: coding === 'gzip' ? gzipSync('{"name":"signup"}') : 'abc',
      })
    }
    const [zstd, cut] = proxy.requests
    await expect(zstd?.body?.json()).rejects.toThrow(
      /zstd-encoded, which the test kit cannot decode/
    )
    await expect(cut?.body?.text()).rejects.toThrow(/gzip-encoded and was recorded only in part/)
  })

  it('refuses to decode a bomb past its bound, and says what is not the coding it claims', async () => {
    proxy = await startProxy(() => new Response(null, { status: 204 }))
    // 2 KB sent as `gzip, gzip` that inflate to 1 GiB; and bytes that claim br and are not.
    const bomb = gzipSync(gzipSync(Buffer.alloc(1024 * 1024 * 1024)))
    expect(bomb.byteLength).toBeLessThan(4096)
    const uploads: [string, BodyInit][] = [
      ['gzip, gzip', bomb],
      ['GZIP, GZIP', bomb],
      ['br', 'not brotli at all'],
    ]
    for (const [coding, body] of uploads) {
      await fetch('https://telemetry.example.com/v1/events', {
        ...proxy.fetchInit,
        method: 'POST',
        headers: { 'content-encoding': coding },
        body,
      })
    }
    const [lower, upper, notBrotli] = proxy.requests
    const before = process.memoryUsage().arrayBuffers
    for (const record of [lower, upper]) {
      await expect(record?.body?.text()).rejects.toThrow(
        `the request body decodes to more than ${64 * 1024 * 1024} bytes, past what text() and json() decode`
      )
    }
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(256 * 1024 * 1024)
    await expect(notBrotli?.body?.json()).rejects.toThrow(/the request body is not valid br/)
  })
})

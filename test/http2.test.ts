import { Hono } from 'hono'
import { ProxyAgent, fetch as undiciFetch } from 'undici'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect as http2Connect, constants } from 'node:http2'
import type { ClientHttp2Session, IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { connect as tlsConnect } from 'node:tls'
import type { TLSSocket } from 'node:tls'
import { promisify } from 'node:util'
import type { App, ProxyOptions } from '../src/types'
import { echoApp } from './helpers/apps'
import type { Echo } from './helpers/apps'
import { connectTunnel, proxyGet, splitFirstWrite } from './helpers/clients'
import { frame, PREFACE } from './helpers/h2-frames'
import type { RunningProxy } from './helpers/proxy'
import { startProxy } from './helpers/proxy'
import { missing, toolPath } from './helpers/tools'
import { within } from './helpers/within'

const run = promisify(execFile)

let running: RunningProxy | undefined
let dir: string | undefined
const sessions: ClientHttp2Session[] = []
afterEach(async () => {
  for (const session of sessions.splice(0)) {
    session.destroy()
  }
  await running?.close()
  running = undefined
  if (dir) {
    await rm(dir, { recursive: true, force: true })
    dir = undefined
  }
})

function proxy(): RunningProxy {
  if (!running) {
    throw new Error('no proxy started')
  }
  return running
}

/** The CA as a file, for curl and Python. */
async function caFile(): Promise<string> {
  dir ??= await mkdtemp(join(tmpdir(), 'wsgiprox-h2-'))
  const file = join(dir, 'ca.pem')
  await writeFile(file, proxy().caPem)
  return file
}

/** TLS over a CONNECT tunnel, offering `alpn`. */
async function tlsTunnel(
  authority: string,
  servername: string,
  alpn: string[]
): Promise<TLSSocket> {
  const { socket } = await connectTunnel(proxy().port, authority)
  const tls = tlsConnect({ socket, servername, ca: proxy().caPem, ALPNProtocols: alpn })
  // The proxy's close() resets the tunnels a test leaves open; that is no failure of the test.
  tls.on('error', () => {})
  await once(tls, 'secureConnect')
  return tls
}

/** An HTTP/2 session through a CONNECT tunnel with TLS, as node:http2 clients open one. */
async function h2Session(authority = 'example.com:443', servername = 'example.com') {
  const tls = await tlsTunnel(authority, servername, ['h2'])
  expect(tls.alpnProtocol).toBe('h2')
  const session = http2Connect(`https://${authority}`, { createConnection: () => tls })
  sessions.push(session)
  await once(session, 'remoteSettings')
  return session
}

/** One request on `session`: status, headers and body. */
async function h2Request(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
  body?: string
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const stream = session.request(headers, { endStream: body === undefined })
  if (body !== undefined) {
    stream.end(body)
  }
  const [responseHeaders] = (await once(stream, 'response')) as [IncomingHttpHeaders]
  const chunks: Buffer[] = []
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer)
  }
  return {
    status: Number(responseHeaders[':status']),
    headers: responseHeaders,
    body: Buffer.concat(chunks).toString(),
  }
}

const echoOf = (body: string) => JSON.parse(body) as Echo

async function start(options: ProxyOptions = {}, app: App = echoApp()) {
  running = await startProxy(app, { prefix: '/prefix/', ...options })
  return running
}

describe('HTTP/2 inside intercepted TLS', () => {
  it('is chosen for clients that offer it, whatever their order, and HTTP/1.1 for the others', async () => {
    await start()
    expect(
      (await tlsTunnel('example.com:443', 'example.com', ['h2', 'http/1.1'])).alpnProtocol
    ).toBe('h2')
    expect(
      (await tlsTunnel('example.com:443', 'example.com', ['http/1.1', 'h2'])).alpnProtocol
    ).toBe('h2')
    expect((await tlsTunnel('example.com:443', 'example.com', ['http/1.1'])).alpnProtocol).toBe(
      'http/1.1'
    )
  })

  it('is not offered with http2: false', async () => {
    await start({ http2: false })
    expect(
      (await tlsTunnel('example.com:443', 'example.com', ['h2', 'http/1.1'])).alpnProtocol
    ).toBe('http/1.1')
  })

  it('translates streams as HTTP/1.1 requests, with the proxy headers stripped and set', async () => {
    await start()
    const session = await h2Session()
    const reply = await h2Request(session, {
      ':path': '/a?b=c',
      'proxy-authorization': 'Basic eDp5',
      'x-wsgiprox-proxy-host': 'forged',
    })
    const echo = echoOf(reply.body)
    expect(echo.path).toBe('/prefix/https://example.com/a?b=c')
    expect(echo.url).toBe('https://example.com/prefix/https://example.com/a?b=c')
    expect(echo.proxyHost).toBe('wsgiprox')
    expect(echo.headers['proxy-authorization']).toBeUndefined()
  })

  it("shows a resolver that keeps the request the client's headers, even when read after the rewrite", async () => {
    let kept: Request | undefined
    await start({
      resolver: (url, request) => {
        kept = request
        return `/seen/${url}`
      },
    })
    const session = await h2Session()
    const reply = await h2Request(session, { ':path': '/a', 'x-a': '1' })
    expect(echoOf(reply.body).path).toBe('/seen/https://example.com/a')
    // The stream's own headers were rewritten in place (Host added) before the app ran; the
    // request the resolver kept, read only now, still holds what the client sent.
    expect(echoOf(reply.body).headers.host).toBe('example.com')
    expect([...(kept?.headers ?? [])]).toEqual([['x-a', '1']])
  })

  it('serves a POST whose body ends with trailers, as HTTP/1.1 does', async () => {
    await start()
    const session = await h2Session()
    const stream = session.request({ ':path': '/t', ':method': 'POST' }, { waitForTrailers: true })
    stream.on('wantTrailers', () => {
      stream.sendTrailers({ 'x-checksum': 'abc' })
    })
    stream.end('with trailers')
    const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders]
    const chunks: Buffer[] = []
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer)
    }
    expect(headers[':status']).toBe(200)
    expect(echoOf(Buffer.concat(chunks).toString()).body).toBe('with trailers')
  })

  it('serves many streams on one connection, and a POST body', async () => {
    await start()
    const session = await h2Session()
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) => h2Request(session, { ':path': `/s${i}` }))
    )
    expect(replies.map((reply) => echoOf(reply.body).path)).toEqual(
      Array.from({ length: 50 }, (_, i) => `/prefix/https://example.com/s${i}`)
    )
    const posted = await h2Request(
      session,
      { ':path': '/p', ':method': 'POST' },
      'x'.repeat(100_000)
    )
    expect(echoOf(posted.body).body).toHaveLength(100_000)
  })

  it('answers 421 to a stream whose :authority names another host', async () => {
    await start()
    const session = await h2Session()
    const reply = await h2Request(session, { ':path': '/', ':authority': 'other.example' })
    expect(reply.status).toBe(421)
    expect(reply.body).toBe(
      'Misdirected request: this tunnel is for example.com, not other.example\n'
    )
  })

  it('keeps the scheme https whatever :scheme says', async () => {
    await start()
    const session = await h2Session()
    const reply = await h2Request(session, { ':path': '/x', ':scheme': 'http' })
    expect(echoOf(reply.body).path).toBe('/prefix/https://example.com/x')
  })

  it('routes proxy hosts to their apps', async () => {
    const sub = new Hono().get('/hello', (c) => c.text('from the proxy app'))
    await start({ proxyApps: { 'proxy-app-1': sub } })
    const session = await h2Session('proxy-app-1:443', 'proxy-app-1')
    expect((await h2Request(session, { ':path': '/hello' })).body).toBe('from the proxy app')
    const pem = await h2Request(await h2Session('wsgiprox:443', 'wsgiprox'), {
      ':path': '/download/pem',
    })
    expect(pem.headers['content-type']).toBe('application/x-x509-ca-cert')
  })

  it('cancels the app stream when the client resets its stream, and serves the next one', async () => {
    let cancelled = () => {}
    const cancel = new Promise<void>((resolve) => (cancelled = resolve))
    // The app sees /prefix/https://example.com/<path>.
    const app = new Hono().get('*', (c) => {
      if (!c.req.path.endsWith('/endless')) {
        return c.text('next')
      }
      const body = new ReadableStream<Uint8Array>({
        pull: (controller) => {
          controller.enqueue(new Uint8Array(16_384))
        },
        cancel: () => {
          cancelled()
        },
      })
      return new Response(body)
    })
    await start({}, app)
    const session = await h2Session()
    const stream = session.request({ ':path': '/endless' })
    await once(stream, 'data')
    stream.close(constants.NGHTTP2_CANCEL)
    await within(cancel, "the app's body stream was not cancelled after the client's RST_STREAM")
    const next = await within(h2Request(session, { ':path': '/next' }), 'the session stopped')
    expect(next.body).toBe('next')
  })

  it("releases the app's body of a HEAD, over HTTP/2 and HTTP/1.1, and the session goes on", async () => {
    // A plain fetch function: Hono answers HEAD itself, dropping the body unread.
    const cancels: string[] = []
    let cancelled = () => {}
    const app = (request: Request) => {
      if (request.method !== 'HEAD') {
        return new Response('next')
      }
      const body = new ReadableStream<Uint8Array>({
        pull: (controller) => {
          controller.enqueue(new Uint8Array(16_384))
        },
        cancel: () => {
          cancels.push(request.url)
          cancelled()
        },
      })
      return new Response(body, { headers: { 'x-app': 'endless' } })
    }
    await start({}, app)
    const session = await h2Session()
    const asks: (() => Promise<{ status: number; headers: Record<string, unknown> }>)[] = [
      () => h2Request(session, { ':method': 'HEAD', ':path': '/endless' }),
      () => proxyGet(proxy().port, 'http://example.com/endless', { method: 'HEAD' }),
    ]
    for (const ask of asks) {
      const cancel = new Promise<void>((resolve) => (cancelled = resolve))
      const head = await within(ask(), 'no answer to the HEAD')
      expect(head.status).toBe(200)
      expect(head.headers['x-app']).toBe('endless')
      await within(cancel, "the app's body of a HEAD was never released")
    }
    expect(cancels).toHaveLength(2)
    const next = await within(h2Request(session, { ':path': '/next' }), 'the session stopped')
    expect(next.body).toBe('next')
  })

  it('keeps memory bounded for a client that does not read: flow control stops the app', async () => {
    let produced = 0
    const app = new Hono().get('*', () => {
      const body = new ReadableStream<Uint8Array>({
        pull: (controller) => {
          produced += 16_384
          controller.enqueue(new Uint8Array(16_384))
        },
      })
      return new Response(body)
    })
    await start({}, app)
    const session = await h2Session()
    const stream = session.request({ ':path': '/endless' })
    await once(stream, 'response')
    stream.pause()
    await sleep(300)
    const before = produced
    await sleep(300)
    expect(produced - before).toBeLessThan(1024 * 1024)
    expect(produced).toBeLessThan(8 * 1024 * 1024)
  })

  it('sends GOAWAY when the proxy closes', async () => {
    await start()
    const session = await h2Session()
    await h2Request(session, { ':path': '/' })
    const goaway = once(session, 'goaway')
    const closing = proxy().close()
    const [code] = (await goaway) as [number]
    expect(code).toBe(constants.NGHTTP2_NO_ERROR)
    await closing
    running = undefined
  })

  it('resumes TLS sessions across h2 tunnels', async () => {
    await start()
    const first = await tlsTunnel('example.com:443', 'example.com', ['h2'])
    const ticket = await new Promise<Buffer>((resolve) => first.once('session', resolve))
    const { socket } = await connectTunnel(proxy().port, 'example.com:443')
    const second = tlsConnect({
      socket,
      servername: 'example.com',
      ca: proxy().caPem,
      ALPNProtocols: ['h2'],
      session: ticket,
    })
    second.on('error', () => {})
    await once(second, 'secureConnect')
    expect(second.isSessionReused()).toBe(true)
    expect(second.alpnProtocol).toBe('h2')
    first.destroy()
    second.destroy()
  })
})

describe('h2c with prior knowledge inside a plain tunnel', () => {
  it('is served as http', async () => {
    await start()
    const { socket } = await connectTunnel(proxy().port, 'example.com:80')
    const session = http2Connect('http://example.com', { createConnection: () => socket })
    sessions.push(session)
    const reply = await h2Request(session, { ':path': '/plain' })
    expect(echoOf(reply.body).path).toBe('/prefix/http://example.com/plain')
  })

  it('is served when the preface comes in two reads', async () => {
    await start()
    const { socket } = await connectTunnel(proxy().port, 'example.com:80')
    const session = http2Connect('http://example.com', {
      createConnection: () => splitFirstWrite(socket),
    })
    sessions.push(session)
    const reply = await within(h2Request(session, { ':path': '/slow' }), 'no HTTP/2 answer')
    expect(echoOf(reply.body).path).toBe('/prefix/http://example.com/slow')
  })
})

/**
 * The HPACK block of `GET https://example.com<path>`: :method and :scheme from the static table,
 * :path and :authority as literals without indexing (short strings, no Huffman).
 */
function getBlock(path: string): Buffer {
  const literal = (index: number, value: string) =>
    Buffer.concat([Buffer.from([index, value.length]), Buffer.from(value)])
  return Buffer.concat([Buffer.from([0x82, 0x87]), literal(4, path), literal(1, 'example.com')])
}

/** Whether a HEADERS frame for `stream` arrives on `socket` before it closes. */
function headersFrameOn(socket: TLSSocket, stream: number): Promise<boolean> {
  return new Promise((resolve) => {
    let pending: Buffer = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk])
      while (pending.length >= 9 && pending.length >= 9 + pending.readUIntBE(0, 3)) {
        if (pending[3] === 0x1 && (pending.readUInt32BE(5) & 0x7fffffff) === stream) {
          resolve(true)
        }
        pending = pending.subarray(9 + pending.readUIntBE(0, 3))
      }
    })
    socket.once('close', () => {
      resolve(false)
    })
  })
}

describe('HTTP/2 abuse', () => {
  it('advertises a cap on concurrent streams and header list size', async () => {
    await start()
    const session = await h2Session()
    expect(session.remoteSettings).toMatchObject({
      maxConcurrentStreams: 100,
      maxHeaderListSize: 65_536,
      enableConnectProtocol: false,
    })
  })

  it('survives a rapid reset flood and serves the next client', async () => {
    await start()
    const session = await h2Session()
    session.on('error', () => {})
    const before = process.memoryUsage().rss
    for (let i = 0; i < 5_000 && !session.destroyed; i++) {
      const stream = session.request({ ':path': `/r${i}` })
      stream.on('error', () => {})
      stream.close(constants.NGHTTP2_CANCEL)
      if (i % 100 === 99) {
        await sleep(1)
      }
    }
    const good = await h2Request(await h2Session(), { ':path': '/after' })
    expect(echoOf(good.body).path).toBe('/prefix/https://example.com/after')
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024)
  })

  it('runs the app for no stream its client reset in the same read (rapid reset)', async () => {
    const paths: string[] = []
    const app = new Hono().get('*', (c) => {
      paths.push(c.req.path)
      return c.text('ok')
    })
    await start({}, app)
    const tls = await tlsTunnel('example.com:443', 'example.com', ['h2'])
    tls.write(Buffer.concat([PREFACE, frame(0x4, 0, 0)]))
    // Each stream opened (HEADERS with END_STREAM) and cancelled (RST_STREAM, CANCEL) in one
    // write, so in one TLS record: the proxy reads both together. Fewer than the 1000 resets
    // after which Node's HTTP/2 ends the session.
    const cancel = Buffer.from([0, 0, 0, constants.NGHTTP2_CANCEL])
    for (let id = 1; id < 1_000; id += 2) {
      tls.write(
        Buffer.concat([frame(0x1, 0x5, id, getBlock(`/r${id}`)), frame(0x3, 0, id, cancel)])
      )
    }
    // The same session still serves a stream it keeps, after all those it was told to drop.
    tls.write(frame(0x1, 0x5, 1_001, getBlock('/kept')))
    const replied = await within(
      headersFrameOn(tls, 1_001),
      'the session never answered the stream that was not reset'
    )
    expect(replied).toBe(true)
    expect(paths).toEqual(['/prefix/https://example.com/kept'])
  })

  it('refuses an oversized header list and serves the next request', async () => {
    await start()
    const tls = await tlsTunnel('example.com:443', 'example.com', ['h2'])
    // Node's client refuses to send a block over 64 KiB itself: this one is let through, so that
    // the proxy is what refuses it. Random bytes, so that HPACK cannot shrink the value.
    const session = http2Connect('https://example.com', {
      createConnection: () => tls,
      maxSendHeaderBlockLength: 1_000_000,
    })
    sessions.push(session)
    session.on('error', () => {})
    await once(session, 'remoteSettings')
    const stream = session.request({
      ':path': '/',
      'x-big': randomBytes(75_000).toString('base64'),
    })
    let status = 0
    const clientRefusals: number[] = []
    stream.on('error', () => {})
    stream.on('frameError', (type: number) => clientRefusals.push(type))
    stream.on('response', (headers) => {
      status = Number(headers[':status'])
    })
    stream.resume()
    await new Promise((resolve) => stream.once('close', resolve))
    expect(clientRefusals).toEqual([])
    expect(status).toBe(0)
    expect(stream.rstCode).not.toBe(constants.NGHTTP2_NO_ERROR)
    const good = await h2Request(await h2Session(), { ':path': '/after' })
    expect(good.status).toBe(200)
  })

  it('survives SETTINGS and PING floods from a client that never reads', async () => {
    await start()
    const tls = await tlsTunnel('example.com:443', 'example.com', ['h2'])
    tls.on('error', () => {})
    const frame = (type: number, payload: Buffer) => {
      const head = Buffer.alloc(9)
      head.writeUIntBE(payload.length, 0, 3)
      head[3] = type
      return Buffer.concat([head, payload])
    }
    const setting = Buffer.alloc(6)
    setting.writeUInt16BE(0x4, 0)
    setting.writeUInt32BE(65_535, 2)
    const ping = frame(0x6, Buffer.alloc(8))
    const settings = frame(0x4, setting)
    tls.write(
      Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(0x4, Buffer.alloc(0))])
    )
    const flood = Buffer.concat(
      Array.from({ length: 1_000 }, () => Buffer.concat([ping, settings]))
    )
    for (let i = 0; i < 20 && !tls.destroyed; i++) {
      tls.write(flood)
      await sleep(5)
    }
    const good = await h2Request(await h2Session(), { ':path': '/after' })
    expect(good.status).toBe(200)
    expect((await proxyGet(proxy().port, 'http://example.com/plain')).status).toBe(200)
  })
})

describe('HTTP/2 clients', () => {
  it.skipIf(missing('curl'))('curl --http2: GET, POST and a streamed body over h2', async () => {
    const app = new Hono()
    app.post('*', async (c) => c.text(`got ${(await c.req.text()).length}`))
    app.get('*', (c) =>
      c.req.path.endsWith('/stream')
        ? new Response(new Blob(['a'.repeat(200_000)]).stream())
        : c.text(c.req.path)
    )
    await start({}, app)
    const ca = await caFile()
    const curl = (...args: string[]) =>
      run('curl', ['-sS', '--http2', '--cacert', ca, '-x', proxy().url, ...args])
    const get = await curl('-w', '\\n%{http_version}', 'https://example.com/g')
    expect(get.stdout).toBe('/prefix/https://example.com/g\n2')
    expect((await curl('-d', 'x'.repeat(5000), 'https://example.com/p')).stdout).toBe('got 5000')
    expect((await curl('https://example.com/stream')).stdout).toHaveLength(200_000)
    const expect100 = await curl(
      '-H',
      'Expect: 100-continue',
      '-d',
      'y'.repeat(2000),
      'https://example.com/e'
    )
    expect(expect100.stdout).toBe('got 2000')
  })

  it.skipIf(missing('curl'))('curl --parallel: 50 streams share one h2 connection', async () => {
    await start(
      {},
      new Hono().get('*', (c) => c.text('ok'))
    )
    const ca = await caFile()
    const urls = Array.from({ length: 50 }, (_, i) => `https://example.com/${i}`)
    const { stdout } = await run('curl', [
      '-sS',
      '--http2',
      '--parallel',
      '--parallel-max',
      '50',
      '--cacert',
      ca,
      '-x',
      proxy().url,
      '-w',
      '%{http_version} %{num_connects}\\n',
      '-o',
      '/dev/null',
      ...urls.flatMap((url) => [url, '-o', '/dev/null']),
    ])
    const lines = stdout.trim().split('\n')
    expect(lines).toHaveLength(50)
    expect(lines.every((line) => line.startsWith('2 '))).toBe(true)
    const connects = lines.reduce((sum, line) => sum + Number(line.split(' ')[1]), 0)
    expect(connects).toBeLessThan(10)
  })

  // A server answers with its own version, HTTP/1.1, to an HTTP/1.0 request (RFC 9110 §2.5).
  it.skipIf(missing('curl')).each([
    ['--http1.1', '1.1'],
    ['-0', '1.1'],
  ])('curl %s still gets HTTP/1.x (%s)', async (flag, version) => {
    await start(
      {},
      new Hono().get('*', (c) => c.text('ok'))
    )
    const { stdout } = await run('curl', [
      '-sS',
      flag,
      '--cacert',
      await caFile(),
      '-x',
      proxy().url,
      '-w',
      ' %{http_version}',
      'https://example.com/',
    ])
    expect(stdout).toBe(`ok ${version}`)
  })

  it('undici with allowH2 through a ProxyAgent', async () => {
    await start()
    const dispatcher = new ProxyAgent({
      uri: proxy().url,
      allowH2: true,
      requestTls: { ca: proxy().caPem },
    })
    try {
      const response = await undiciFetch('https://example.com/undici', { dispatcher })
      expect(echoOf(await response.text()).path).toBe('/prefix/https://example.com/undici')
    } finally {
      await dispatcher.close()
    }
  })

  it.skipIf(missing('python3-httpx'))('Python httpx with http2=True', async () => {
    await start()
    const script = [
      'import httpx, sys',
      `client = httpx.Client(http2=True, proxies="${proxy().url}", verify=sys.argv[1])`,
      'r = client.get("https://example.com/py")',
      'print(r.http_version, r.json()["path"])',
    ].join('\n')
    const { stdout } = await run(toolPath('python3-httpx'), ['-c', script, await caFile()])
    expect(stdout.trim()).toBe('HTTP/2 /prefix/https://example.com/py')
  })
})

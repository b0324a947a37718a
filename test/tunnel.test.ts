import { Hono } from 'hono'
import { once } from 'node:events'
import { connect as tlsConnect } from 'node:tls'
import { ProxyAuthResolver } from '../src/admission/resolvers'
import { echoApp } from './helpers/apps'
import type { Echo } from './helpers/apps'
import {
  rawExchange,
  connectTunnel,
  httpsTunnel,
  proxyGet,
  readHead,
  requestOver,
  tlsOverTunnel,
} from './helpers/clients'
import type { RunningProxy } from './helpers/proxy'
import { startProxy } from './helpers/proxy'
import { within } from './helpers/within'

let running: RunningProxy | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

const parse = (body: string) => JSON.parse(body) as Echo

describe('CONNECT tunnels with TLS', () => {
  it('answers 200 Connection Established with the HTTP version of the request', async () => {
    running = await startProxy(echoApp())
    const v11 = await connectTunnel(running.port, 'example.com:443')
    expect(v11.head).toBe('HTTP/1.1 200 Connection Established')
    v11.socket.destroy()
    const v10 = await connectTunnel(running.port, 'example.com:443', {}, '1.0')
    expect(v10.head).toBe('HTTP/1.0 200 Connection Established')
    v10.socket.destroy()
  })

  it('serves https requests with a certificate the CA vouches for', async () => {
    running = await startProxy(echoApp(), { prefix: '/prefix/' })
    const tls = await httpsTunnel(running.port, 'example.com:443', 'example.com', running.caPem)
    const reply = await requestOver(tls, '/a?b=c')
    expect(parse(reply.body)).toMatchObject({
      path: '/prefix/https://example.com/a?b=c',
      proxyHost: 'wsgiprox',
      url: 'https://example.com/prefix/https://example.com/a?b=c',
    })
  })

  it('shows a non-default port in the full URL', async () => {
    running = await startProxy(echoApp(), { prefix: '/prefix/' })
    const tls = await httpsTunnel(running.port, 'example.com:123', 'example.com', running.caPem)
    const reply = await requestOver(tls, '/x', { host: 'example.com:123' })
    expect(parse(reply.body).path).toBe('/prefix/https://example.com:123/x')
  })

  it('tells TLS from plain HTTP by the first bytes, not the port', async () => {
    running = await startProxy(echoApp(), { prefix: '/' })
    const tlsOn8080 = await httpsTunnel(
      running.port,
      'example.com:8080',
      'example.com',
      running.caPem
    )
    expect(parse((await requestOver(tlsOn8080, '/t')).body).path).toBe(
      '/https://example.com:8080/t'
    )
    const plainOn443 = await connectTunnel(running.port, 'example.com:443')
    expect(parse((await requestOver(plainOn443.socket, '/p')).body).path).toBe(
      '/http://example.com:443/p'
    )
    const plainOn80 = await connectTunnel(running.port, 'example.com:80')
    expect(parse((await requestOver(plainOn80.socket, '/p')).body).path).toBe(
      '/http://example.com/p'
    )
  })

  it('uses the SNI name when it differs from the CONNECT host', async () => {
    running = await startProxy(echoApp(), { prefix: '/' })
    const tls = await httpsTunnel(running.port, '10.1.2.3:443', 'real.example.org', running.caPem)
    const reply = await requestOver(tls, '/sni', { host: 'real.example.org' })
    expect(parse(reply.body).path).toBe('/https://real.example.org/sni')
  })

  it.each([
    ['127.0.0.1:443', '127.0.0.1', 'https://127.0.0.1/ip'],
    ['[::1]:8443', '::1', 'https://[::1]:8443/ip'],
  ])('serves the IP address host %s with an IP certificate', async (authority, ip, url) => {
    running = await startProxy(echoApp(), { prefix: '/' })
    const tls = await httpsTunnel(running.port, authority, undefined, running.caPem, ip)
    const reply = await requestOver(tls, '/ip', { host: authority.replace(':443', '') })
    expect(parse(reply.body).path).toBe(`/${url}`)
  })

  it('serves many sequential requests over one tunnel', async () => {
    running = await startProxy(echoApp(), { prefix: '/' })
    const tls = await httpsTunnel(running.port, 'example.com:443', 'example.com', running.caPem)
    for (let i = 0; i < 50; i++) {
      const reply = await requestOver(tls, `/n/${i}`, { headers: { connection: 'keep-alive' } })
      expect(parse(reply.body).path).toBe(`/https://example.com/n/${i}`)
    }
    expect(tls.destroyed).toBe(false)
  })

  it('serves many tunnels at once to many host names', async () => {
    const proxy = (running = await startProxy(echoApp(), { prefix: '/' }))
    const hosts = Array.from({ length: 24 }, (_, i) =>
      i % 2 ? `h${i}.example.org` : `site${i}.test`
    )
    const paths = await Promise.all(
      hosts.map(async (host) => {
        const tls = await httpsTunnel(proxy.port, `${host}:443`, host, proxy.caPem)
        const reply = await requestOver(tls, '/', { host })
        tls.destroy()
        return parse(reply.body).path
      })
    )
    expect(paths).toEqual(hosts.map((host) => `/https://${host}/`))
  })

  it('serves the proxy host over https untranslated', async () => {
    running = await startProxy(echoApp(), { prefix: '/prefix/' })
    const tls = await httpsTunnel(running.port, 'wsgiprox:443', 'wsgiprox', running.caPem)
    const reply = await requestOver(tls, '/path/file.html?A=B', { host: 'wsgiprox' })
    expect(parse(reply.body)).toMatchObject({ path: '/path/file.html?A=B', proxyHost: 'wsgiprox' })
  })

  it('delivers POST bodies inside the tunnel', async () => {
    running = await startProxy(echoApp())
    const tls = await httpsTunnel(running.port, 'example.com:443', 'example.com', running.caPem)
    const body = 'y'.repeat(100_000)
    const reply = await requestOver(tls, '/post', { method: 'POST', body })
    expect(parse(reply.body).body).toBe(body)
  })

  it('resumes a TLS session in a new tunnel to the same host, and only there', async () => {
    running = await startProxy(echoApp())
    const { port, caPem } = running
    const handshake = async (authority: string, host: string, session?: Buffer) => {
      const { socket } = await connectTunnel(port, authority)
      const secure = tlsConnect({ socket, servername: host, ca: caPem, session })
      // A TLS 1.3 ticket arrives after the handshake, by the time a response has come.
      const tickets: Buffer[] = []
      secure.on('session', (ticket: Buffer) => tickets.push(ticket))
      await once(secure, 'secureConnect')
      const reply = await requestOver(secure, '/', { host })
      const reused = secure.isSessionReused()
      secure.destroy()
      return { reused, status: reply.status, ticket: tickets[0] }
    }
    const first = await handshake('a.example.com:443', 'a.example.com')
    expect(first).toMatchObject({ reused: false, status: 200 })
    expect(first.ticket).toBeInstanceOf(Buffer)
    const again = await handshake('a.example.com:443', 'a.example.com', first.ticket)
    expect(again).toMatchObject({ reused: true, status: 200 })
    const elsewhere = await handshake('b.example.org:443', 'b.example.org', first.ticket)
    expect(elsewhere).toMatchObject({ reused: false, status: 200 })
  })
})

describe('pipelined tunnels', () => {
  it('serves a request sent in the same packet as the CONNECT', async () => {
    running = await startProxy(echoApp(), { prefix: '/' })
    const reply = await rawExchange(
      running.port,
      'CONNECT example.com:80 HTTP/1.1\r\nHost: example.com:80\r\n\r\n' +
        'GET /pipelined HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n'
    )
    expect(reply).toMatch(/^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 200 OK/)
    expect(reply).toContain('"path":"/http://example.com/pipelined"')
  })
})

describe('responses inside tunnels', () => {
  const streamingApp = () => {
    const app = new Hono()
    app.get('*', () => {
      const parts = ['one,', 'two,', 'three']
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          const part = parts.shift()
          if (part === undefined) {
            controller.close()
          } else {
            controller.enqueue(new TextEncoder().encode(part))
          }
        },
      })
      return new Response(stream, { headers: { 'content-type': 'text/plain' } })
    })
    return app
  }

  it('streams a body of unknown length chunked to HTTP/1.1 clients', async () => {
    running = await startProxy(streamingApp())
    const tls = await httpsTunnel(running.port, 'example.com:443', 'example.com', running.caPem)
    const reply = await requestOver(tls, '/stream')
    expect(reply.headers['transfer-encoding']).toBe('chunked')
    expect(reply.body).toBe('one,two,three')
  })

  it('gives HTTP/1.0 clients a Content-Length', async () => {
    running = await startProxy(streamingApp())
    const tls = await httpsTunnel(running.port, 'example.com:443', 'example.com', running.caPem)
    tls.write('GET /old HTTP/1.0\r\nHost: example.com\r\n\r\n')
    const chunks: Buffer[] = []
    tls.on('data', (chunk: Buffer) => chunks.push(chunk))
    await once(tls, 'end')
    const text = Buffer.concat(chunks).toString()
    expect(text).toMatch(/^HTTP\/1\.1 200/)
    expect(text).toMatch(/\r\ncontent-length: 13\r\n/i)
    expect(text).not.toMatch(/transfer-encoding/i)
    expect(text.endsWith('\r\n\r\none,two,three')).toBe(true)
  })

  it('keeps a fixed-length response fixed', async () => {
    running = await startProxy(() => new Response('12345', { headers: { 'content-length': '5' } }))
    const tls = await httpsTunnel(running.port, 'example.com:443', 'example.com', running.caPem)
    const reply = await requestOver(tls, '/')
    expect(reply.headers['content-length']).toBe('5')
    expect(reply.headers['transfer-encoding']).toBeUndefined()
  })

  it('cancels the app body stream when the client leaves mid-stream', async () => {
    let cancelled!: () => void
    const cancelledPromise = new Promise<void>((resolve) => (cancelled = resolve))
    running = await startProxy(() => {
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          controller.enqueue(new Uint8Array(16 * 1024))
          return new Promise((resolve) => setImmediate(resolve))
        },
        cancel() {
          cancelled()
        },
      })
      return new Response(stream)
    })
    const tls = await httpsTunnel(running.port, 'example.com:443', 'example.com', running.caPem)
    tls.write('GET /forever HTTP/1.1\r\nHost: example.com\r\n\r\n')
    expect(await readHead(tls)).toMatch(/^HTTP\/1\.1 200 /)
    tls.destroy()
    await within(cancelledPromise, "the app's body stream was not cancelled after the client left")
  })

  it('keeps the tunnel usable after the app throws', async () => {
    let calls = 0
    running = await startProxy(() => {
      calls++
      if (calls === 1) {
        throw new Error('first request fails')
      }
      return new Response('second works')
    })
    const tls = await httpsTunnel(running.port, 'example.com:443', 'example.com', running.caPem)
    expect((await requestOver(tls, '/1')).status).toBe(500)
    const second = await requestOver(tls, '/2')
    expect(second.body).toBe('second works')
  })
})

describe('proxy authentication', () => {
  it('answers 407 to a CONNECT without credentials, before any tunnel', async () => {
    running = await startProxy(echoApp(), { resolver: new ProxyAuthResolver('Give a collection') })
    const { head, status, socket } = await connectTunnel(running.port, 'example.com:443')
    expect(status).toBe(407)
    expect(head).toMatch(/\r\nProxy-Authenticate: Basic realm="Give a collection"/)
    socket.resume()
    await once(socket, 'close')
  })

  it('uses the user name as the prefix inside a tunnel opened with credentials', async () => {
    running = await startProxy(echoApp(), { resolver: new ProxyAuthResolver() })
    const auth = `Basic ${Buffer.from('my-coll:').toString('base64')}`
    const { socket, status } = await connectTunnel(running.port, 'example.com:443', {
      'Proxy-Authorization': auth,
    })
    expect(status).toBe(200)
    const tls = await tlsOverTunnel(socket, 'example.com', running.caPem)
    const echo = parse((await requestOver(tls, '/page')).body)
    expect(echo.path).toBe('/my-coll/https://example.com/page')
    expect(echo.headers['proxy-authorization']).toBeUndefined()
  })

  it('answers 407 to an absolute-form request without credentials and serves one with them', async () => {
    running = await startProxy(echoApp(), { resolver: new ProxyAuthResolver() })
    const denied = await proxyGet(running.port, 'http://example.com/')
    expect(denied.status).toBe(407)
    expect(denied.headers['proxy-authenticate']).toBe('Basic realm="Please enter prefix path"')
    const allowed = await proxyGet(running.port, 'http://example.com/x', {
      headers: { 'proxy-authorization': `Basic ${Buffer.from('coll:pw').toString('base64')}` },
    })
    expect(parse(allowed.body).path).toBe('/coll/http://example.com/x')
  })
})

describe('keepaliveMax', () => {
  it('asks the client to close after each response with -1', async () => {
    running = await startProxy(echoApp(), { keepaliveMax: -1 })
    const tls = await httpsTunnel(running.port, 'example.com:443', 'example.com', running.caPem)
    const reply = await requestOver(tls, '/')
    expect(reply.headers.connection).toBe('close')
  })

  it('asks clients to close only once more tunnels than the limit are open', async () => {
    running = await startProxy(echoApp(), { keepaliveMax: 1 })
    const first = await httpsTunnel(running.port, 'example.com:443', 'example.com', running.caPem)
    expect((await requestOver(first, '/')).headers.connection).toBe('keep-alive')
    const second = await httpsTunnel(running.port, 'example.com:443', 'example.com', running.caPem)
    expect((await requestOver(second, '/')).headers.connection).toBe('close')
  })
})

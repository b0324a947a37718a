import WebSocket from 'ws'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { LogRecord } from '../src/log/records'
import { createProxy } from '../src/proxy'
import { rawExchange, rawSocket, readHead, requestOver, tlsOverTunnel } from './helpers/clients'
import { connInfoApp } from './helpers/conninfo-app'
import type { Seen } from './helpers/conninfo-app'
import type { RunningProxy } from './helpers/proxy'
import { startProxy, testCa } from './helpers/proxy'
import { authorityTlv, inet, inet6, v2Header } from './helpers/proxy-protocol'
import { closeSocket, nextMessage } from './helpers/websockets'

let running: RunningProxy | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

const V1 = 'PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\n'
const V2 = v2Header(0x21, 0x11, inet([192, 0, 2, 10], [198, 51, 100, 1], [56324, 443]))
const CLIENT = { address: '192.0.2.10', port: 56324, addressType: 'IPv4' }

/** A connection to the proxy that starts with `header`. */
async function proxied(port: number, header: string | Buffer): Promise<Socket> {
  const socket = await rawSocket(port)
  socket.write(header)
  return socket
}

/** The JSON body of the one response in `raw` (Connection: close, so the body runs to the end). */
function bodyOf(raw: string): Seen {
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4)
  return JSON.parse(body) as Seen
}

const closeRequest = (target: string) =>
  `GET ${target} HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n`

describe('the PROXY protocol on incoming connections', () => {
  it.each([
    ['v1', V1],
    ['v2', V2],
  ])('shows the %s client to getConnInfo, with the request in the same packet', async (_v, h) => {
    running = await startProxy(connInfoApp(), { proxyProtocol: true })
    const packet = Buffer.concat([
      Buffer.from(h),
      Buffer.from(closeRequest('http://example.com/a')),
    ])
    const seen = bodyOf(await rawExchange(running.port, packet))
    expect(seen).toMatchObject({ ...CLIENT, path: '/http://example.com/a' })
  })

  it('reads a header that arrives a byte at a time, TLVs and all', async () => {
    running = await startProxy(connInfoApp(), { proxyProtocol: true })
    const body = Buffer.concat([
      inet([192, 0, 2, 10], [10, 0, 0, 1], [56324, 80]),
      authorityTlv('a'),
    ])
    const socket = await proxied(running.port, Buffer.alloc(0))
    socket.setNoDelay(true)
    for (const byte of v2Header(0x21, 0x11, body)) {
      socket.write(Buffer.of(byte))
    }
    const reply = await requestOver(socket, 'http://example.com/b', { host: 'example.com' })
    expect(JSON.parse(reply.body)).toMatchObject({ ...CLIENT, path: '/http://example.com/b' })
    socket.destroy()
  })

  it('keeps the client for every request of a keep-alive connection', async () => {
    running = await startProxy(connInfoApp(), { proxyProtocol: true })
    const socket = await proxied(running.port, V1)
    for (const path of ['/1', '/2', '/3']) {
      const reply = await requestOver(socket, `http://example.com${path}`)
      expect(JSON.parse(reply.body)).toMatchObject({
        ...CLIENT,
        path: `/http://example.com${path}`,
      })
    }
    socket.destroy()
  })

  it('shows an IPv6 client', async () => {
    running = await startProxy(connInfoApp(), { proxyProtocol: true })
    const header = v2Header(
      0x21,
      0x21,
      inet6('20010db8000000000000000000000001', '20010db8000000000000000000000002', [4242, 443])
    )
    const socket = await proxied(running.port, header)
    const reply = await requestOver(socket, 'http://example.com/')
    expect(JSON.parse(reply.body)).toMatchObject({
      address: '2001:db8::1',
      port: 4242,
      addressType: 'IPv6',
    })
    socket.destroy()
  })

  it('shows the client inside a CONNECT tunnel, through TLS and in plain HTTP', async () => {
    running = await startProxy(connInfoApp(), { proxyProtocol: true })
    const secure = await proxied(running.port, V2)
    secure.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')
    expect(await readHead(secure)).toBe('HTTP/1.1 200 Connection Established')
    const tls = await tlsOverTunnel(secure, 'example.com', running.caPem)
    const reply = await requestOver(tls, '/s')
    expect(JSON.parse(reply.body)).toMatchObject({ ...CLIENT, path: '/https://example.com/s' })
    tls.destroy()

    const plain = await proxied(running.port, V1)
    plain.write('CONNECT example.com:80 HTTP/1.1\r\nHost: example.com:80\r\n\r\n')
    expect(await readHead(plain)).toBe('HTTP/1.1 200 Connection Established')
    const inside = await requestOver(plain, '/p')
    expect(JSON.parse(inside.body)).toMatchObject({ ...CLIENT, path: '/http://example.com/p' })
    plain.destroy()
  })

  it('shows the client to a WebSocket upgrade inside a tunnel', async () => {
    running = await startProxy(connInfoApp(), { proxyProtocol: true })
    const socket = await proxied(running.port, V2)
    socket.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')
    expect(await readHead(socket)).toBe('HTTP/1.1 200 Connection Established')
    const tls = await tlsOverTunnel(socket, 'example.com', running.caPem)
    const ws = new WebSocket('wss://example.com/ws', { createConnection: () => tls })
    const hello = JSON.parse((await nextMessage(ws)).data.toString()) as Seen
    expect(hello).toMatchObject({ ...CLIENT, path: '/https://example.com/ws' })
    await closeSocket(ws)
  })

  it.each([
    ['v1 UNKNOWN', 'PROXY UNKNOWN\r\n'],
    ['v2 LOCAL', v2Header(0x20, 0x00, [])],
  ])('keeps the connection’s own address after %s', async (_name, header) => {
    running = await startProxy(connInfoApp(), { proxyProtocol: true })
    const packet = Buffer.concat([Buffer.from(header), Buffer.from(closeRequest('/direct'))])
    const seen = bodyOf(await rawExchange(running.port, packet))
    expect(seen).toMatchObject({ address: '127.0.0.1', path: '/direct' })
  })

  it.each([
    ['an HTTP request without a header', closeRequest('http://example.com/'), /^HTTP\/1\.1 400 /],
    ['TLS without a header', Buffer.from('16030100c8010000c40303', 'hex'), /^$/],
    ['a malformed v1 header', 'PROXY TCP4 1.2.3.4 nowhere 1 2\r\nGET / HTTP/1.1\r\n\r\n', /^$/],
    ['a v2 header of version 1', v2Header(0x11, 0x11, Buffer.alloc(12)), /^$/],
    ['a truncated v1 header', 'PROXY TCP4 192.0.2.10 198.51.100', /^$/],
    ['a truncated v2 header', V2.subarray(0, 20), /^$/],
  ])('closes a connection that sends %s, and serves the next one', async (_name, bytes, reply) => {
    running = await startProxy(connInfoApp(), { proxyProtocol: true })
    const socket = await rawSocket(running.port)
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.write(bytes)
    // A truncated header only fails once the client has said all it will say.
    socket.end()
    await once(socket, 'close')
    const text = Buffer.concat(chunks).toString('latin1')
    expect(text).toMatch(reply)
    if (text !== '') {
      expect(text).toContain('PROXY protocol header')
    }
    expect(running.errors.map((error) => error.message).join('\n')).toMatch(/^PROXY protocol: /)

    const good = Buffer.concat([Buffer.from(V1), Buffer.from(closeRequest('http://example.com/'))])
    expect(bodyOf(await rawExchange(running.port, good))).toMatchObject(CLIENT)
  })

  it('gives the 400 to an HTTP request without a header its access record', async () => {
    const records: LogRecord[] = []
    running = await startProxy(connInfoApp(), {
      proxyProtocol: true,
      onLog: (record) => records.push(record),
    })
    const reply = await rawExchange(running.port, closeRequest('http://example.com/skip'))
    expect(reply).toMatch(/^HTTP\/1\.1 400 /)
    expect(records).toEqual([
      expect.objectContaining({
        type: 'request',
        method: 'GET',
        url: 'http://example.com/skip',
        status: 400,
        route: 'proxy',
        path: undefined,
        bytes: Buffer.byteLength(reply.slice(reply.indexOf('\r\n\r\n') + 4)),
      }),
    ])
  })

  it('closes a connection whose header does not come in time', async () => {
    running = await startProxy(connInfoApp(), { proxyProtocol: true, handshakeTimeoutMs: 200 })
    const socket = await proxied(running.port, 'PROXY TCP4 ')
    socket.resume()
    await once(socket, 'close')
    expect(running.errors[0]?.message).toMatch(/no complete header within 200 ms/)
  })

  it('says nothing of a bare connect and close, as TCP health checks do', async () => {
    running = await startProxy(connInfoApp(), { proxyProtocol: true })
    const probe = await rawSocket(running.port)
    probe.resume()
    probe.end()
    await once(probe, 'close')
    const good = Buffer.concat([Buffer.from(V2), Buffer.from(closeRequest('/after'))])
    expect(bodyOf(await rawExchange(running.port, good))).toMatchObject(CLIENT)
    expect(running.errors).toEqual([])
  })

  it('works on a server it is attached to, and gives back its listeners on close', async () => {
    const server = createServer()
    const before = server.listeners('connection')
    const proxy = createProxy(connInfoApp(), { proxyProtocol: true, ca: await testCa() })
    proxy.attach(server)
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const { port } = server.address() as AddressInfo
    const packet = Buffer.concat([Buffer.from(V1), Buffer.from(closeRequest('/own'))])
    expect(bodyOf(await rawExchange(port, packet))).toMatchObject({ ...CLIENT, path: '/own' })
    await proxy.close()
    expect(server.listeners('connection')).toEqual(before)
  })

  it('is off by default: a PROXY header is then just a bad request', async () => {
    running = await startProxy(connInfoApp())
    const reply = await rawExchange(running.port, `${V1}${closeRequest('/')}`)
    expect(reply).toMatch(/^HTTP\/1\.1 400 /)
  })
})

describe('request bodies through the accept path', () => {
  /** Write `total` bytes of body on `socket` as fast as it takes them; resolves when it stalls. */
  function pumpUntilStalled(socket: Socket, total: number): Promise<number> {
    const chunk = Buffer.alloc(64 * 1024)
    let written = 0
    return new Promise((resolve) => {
      let stall: NodeJS.Timeout | undefined
      const pump = () => {
        clearTimeout(stall)
        while (written < total) {
          written += chunk.length
          if (!socket.write(chunk)) {
            // No room for a second: the proxy has stopped reading.
            stall = setTimeout(() => {
              resolve(written)
            }, 1000)
            socket.once('drain', pump)
            return
          }
        }
        resolve(written)
      }
      pump()
    })
  }

  it.each([
    ['SOCKS5 and HTTP/2 on', {}],
    ['the PROXY protocol on', { proxyProtocol: true }],
    ['the PROXY protocol alone', { proxyProtocol: true, socks: false, http2: false }],
  ])(
    'stops reading a body the app does not read, with %s',
    async (_name, options) => {
      const total = 256 * 1024 * 1024
      let answer!: () => void
      const answered = new Promise<Response>((resolve) => {
        answer = () => {
          resolve(new Response('not read'))
        }
      })
      running = await startProxy(() => answered, options)
      const socket = await rawSocket(running.port)
      socket.on('error', () => {})
      const proxyHeader = 'proxyProtocol' in options ? 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n' : ''
      socket.write(
        `${proxyHeader}POST http://example.com/upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: ${total}\r\n\r\n`
      )
      const written = await pumpUntilStalled(socket, total)
      // What the socket buffers on both sides hold, far from the whole body.
      expect(written).toBeLessThan(64 * 1024 * 1024)
      answer()
      const head = await readHead(socket)
      expect(head).toMatch(/^HTTP\/1\.1 200 /)
      socket.destroy()
    },
    20_000
  )
})

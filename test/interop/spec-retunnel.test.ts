/**
 * SPEC "A tunnel is never re-tunnelled: a CONNECT inside any tunnel gets 405 on every protocol",
 * on the ways into a tunnel that test/decision-paths.test.ts leaves out: TLS inside SOCKS5,
 * tunnels opened inside TLS to the proxy itself, and HTTP/2 inside SOCKS5. The plain ways are
 * repeated so that the table reads as the SPEC sentence does.
 */
import { once } from 'node:events'
import { connect as http2Connect } from 'node:http2'
import type { IncomingHttpHeaders } from 'node:http2'
import type { Duplex } from 'node:stream'
import { connect as tlsConnect } from 'node:tls'
import type { TLSSocket } from 'node:tls'
import { echoApp } from '../helpers/apps'
import { connectTunnel, rawSocket, readHead, tlsOverTunnel } from '../helpers/clients'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'
import { socksConnect } from '../helpers/socks'
import { closeOf, within } from '../helpers/within'

let running: RunningProxy
const opened: Duplex[] = []
beforeAll(async () => {
  running = await startProxy(echoApp())
})
afterEach(() => {
  for (const socket of opened.splice(0)) {
    socket.destroy()
  }
})
afterAll(async () => {
  await running.close()
})

/** TLS to the proxy itself (an `https://` proxy URL), verified for its address. */
async function tlsToProxy(): Promise<TLSSocket> {
  const secure = tlsConnect({ port: running.port, host: '127.0.0.1', ca: running.caPem })
  await once(secure, 'secureConnect')
  return secure
}

/** A CONNECT to `target` sent on `socket`, whose answer must be 200. */
async function connectOn(socket: TLSSocket, target: string): Promise<TLSSocket> {
  socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`)
  const head = await within(
    new Promise<string>((resolve) => {
      socket.once('data', (chunk: Buffer) => {
        resolve(chunk.toString('latin1'))
      })
    }),
    'no answer to the CONNECT'
  )
  expect(head).toBe('HTTP/1.1 200 Connection Established\r\n\r\n')
  return socket
}

const WAYS: [string, () => Promise<Duplex>][] = [
  [
    'a plain CONNECT tunnel',
    async () => (await connectTunnel(running.port, 'example.com:80')).socket,
  ],
  [
    'a TLS CONNECT tunnel',
    async () => {
      const { socket } = await connectTunnel(running.port, 'example.com:443')
      return tlsOverTunnel(socket, 'example.com', running.caPem)
    },
  ],
  [
    'a plain SOCKS5 tunnel',
    async () => (await socksConnect(running.port, 'example.com', 80)).socket,
  ],
  [
    'TLS inside a SOCKS5 tunnel',
    async () => {
      const { socket } = await socksConnect(running.port, 'example.com', 443)
      return tlsOverTunnel(socket, 'example.com', running.caPem)
    },
  ],
  [
    'a plain tunnel inside TLS to the proxy',
    async () => connectOn(await tlsToProxy(), 'example.com:80'),
  ],
  [
    'a TLS tunnel inside TLS to the proxy',
    async () => {
      const outer = await connectOn(await tlsToProxy(), 'example.com:443')
      const inner = tlsConnect({
        socket: outer,
        servername: 'example.com',
        ca: running.caPem,
        ALPNProtocols: ['http/1.1'],
      })
      await once(inner, 'secureConnect')
      return inner
    },
  ],
]

describe('a CONNECT inside a tunnel', () => {
  it.each(WAYS)('gets 405 Method Not Allowed inside %s, and the tunnel closes', async (_, open) => {
    const tunnel = await open()
    opened.push(tunnel)
    const closed = closeOf(tunnel, 'the tunnel stayed open after the inner CONNECT')
    tunnel.write('CONNECT other.com:443 HTTP/1.1\r\nHost: other.com:443\r\n\r\n')
    const reply = (await closed).toString('latin1')
    expect(reply.split('\r\n')[0]).toBe('HTTP/1.1 405 Method Not Allowed')
    expect(reply).not.toContain('Connection Established')
  })

  it('gets :status 405 as an HTTP/2 stream inside TLS inside a SOCKS5 tunnel', async () => {
    const { socket } = await socksConnect(running.port, 'example.com', 443)
    const tls = tlsConnect({
      socket,
      servername: 'example.com',
      ca: running.caPem,
      ALPNProtocols: ['h2'],
    })
    opened.push(tls)
    await once(tls, 'secureConnect')
    expect(tls.alpnProtocol).toBe('h2')
    const session = http2Connect('https://example.com', { createConnection: () => tls })
    try {
      const stream = session.request({ ':method': 'CONNECT', ':authority': 'other.com:443' })
      stream.on('error', () => {})
      const [headers] = (await within(
        once(stream, 'response'),
        'no answer to the CONNECT stream'
      )) as [IncomingHttpHeaders]
      expect(headers[':status']).toBe(405)
    } finally {
      session.destroy()
    }
  })

  it('is the 200 of an ordinary CONNECT on the proxy itself (the table can tell)', async () => {
    const socket = await rawSocket(running.port)
    opened.push(socket)
    socket.write('CONNECT other.com:443 HTTP/1.1\r\nHost: other.com:443\r\n\r\n')
    expect(await readHead(socket)).toBe('HTTP/1.1 200 Connection Established')
  })
})

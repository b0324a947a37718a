import { once } from 'node:events'
import { connect as tlsConnect } from 'node:tls'
import { echoApp } from './helpers/apps'
import type { Echo } from './helpers/apps'
import { connectTunnel, httpsTunnel, proxyGet, rawExchange, requestOver } from './helpers/clients'
import { inBatches, mutator, seeded, sendAndWaitForClose } from './helpers/fuzz'
import type { RunningProxy } from './helpers/proxy'
import { startProxy } from './helpers/proxy'

let running: RunningProxy
beforeEach(async () => {
  running = await startProxy(echoApp(), { prefix: '/', handshakeTimeoutMs: 300 })
})
afterEach(async () => {
  // Every bad input is followed by good requests, plain and through a TLS tunnel.
  const plain = await proxyGet(running.port, 'http://example.com/after')
  expect((JSON.parse(plain.body) as Echo).path).toBe('/http://example.com/after')
  const tls = await httpsTunnel(running.port, 'example.com:443', 'example.com', running.caPem)
  expect((await requestOver(tls, '/after')).status).toBe(200)
  tls.destroy()
  await running.close()
})

describe('bad input', () => {
  it.each([
    'CONNECT example.com HTTP/1.1',
    'CONNECT example.com:0 HTTP/1.1',
    'CONNECT example.com:99999 HTTP/1.1',
    'CONNECT :443 HTTP/1.1',
    'CONNECT -bad-.example:443 HTTP/1.1',
    'CONNECT exa_mple..com:443 HTTP/1.1',
    'CONNECT [not-ipv6]:443 HTTP/1.1',
  ])('answers 400 to %s', async (line) => {
    const reply = await rawExchange(running.port, `${line}\r\nHost: x\r\n\r\n`)
    expect(reply).toMatch(/^HTTP\/1\.1 400 /)
  })

  it.each(['http://exa%zzmple.com/', 'http://user@example.com/', 'http://example.com:70000/'])(
    'answers 400 to the invalid absolute URL %s',
    async (url) => {
      const reply = await rawExchange(
        running.port,
        `GET ${url} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`
      )
      expect(reply).toMatch(/^HTTP\/1\.1 400 /)
    }
  )

  it('answers 431 to oversized headers', async () => {
    const reply = await rawExchange(
      running.port,
      `GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`
    )
    expect(reply).toMatch(/^HTTP\/1\.1 431 /)
  })

  it('closes a tunnel that carries garbage instead of HTTP', async () => {
    const { socket } = await connectTunnel(running.port, 'example.com:443')
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.write(Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a, 0x0d, 0x0a]))
    await once(socket, 'close')
    expect(Buffer.concat(chunks).toString()).toMatch(/^HTTP\/1\.1 400 /)
  })

  it('closes a tunnel that carries garbage after a TLS record header', async () => {
    const { socket } = await connectTunnel(running.port, 'example.com:443')
    socket.on('error', () => {})
    socket.resume()
    socket.write(
      Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x20]), Buffer.alloc(32, 0x41)])
    )
    await once(socket, 'close')
  })

  it('closes a tunnel whose TLS handshake stops half way', async () => {
    const { socket } = await connectTunnel(running.port, 'example.com:443')
    socket.on('error', () => {})
    // A ClientHello that announces more bytes than it sends.
    socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]))
    await once(socket, 'close')
  })

  it('times out a tunnel whose client sends nothing', async () => {
    const { socket } = await connectTunnel(running.port, 'example.com:443')
    socket.resume()
    await once(socket, 'close')
  })

  it('survives a client that closes right after CONNECT', async () => {
    const { socket } = await connectTunnel(running.port, 'example.com:443')
    socket.destroy()
    await once(socket, 'close')
  })

  it('refuses a TLS handshake whose SNI is not a valid host name', async () => {
    const { socket } = await connectTunnel(running.port, 'example.com:443')
    const tls = tlsConnect({ socket, servername: 'bad_name!.example', ca: running.caPem })
    const [error] = (await once(tls, 'error')) as [Error]
    expect(error).toBeInstanceOf(Error)
  })

  it('answers 400 to a request line inside a tunnel that is not a path', async () => {
    const tls = await httpsTunnel(running.port, 'example.com:443', 'example.com', running.caPem)
    const chunks: Buffer[] = []
    tls.on('data', (chunk: Buffer) => chunks.push(chunk))
    tls.write('GET nopath HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n')
    await once(tls, 'end')
    expect(Buffer.concat(chunks).toString()).toMatch(/^HTTP\/1\.1 400 /)
  })

  it('survives 300 mutated requests, CONNECTs and TLS records, closing every connection', async () => {
    const random = seeded(0x5eed)
    const seeds = [
      'GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n',
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: wsgiprox\r\n\r\n',
      'GET http://example.com/ws HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n' +
        'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
        'Sec-WebSocket-Version: 13\r\n\r\n',
      'POST http://example.com/ HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n' +
        '\r\n5\r\nhello\r\n0\r\n\r\n',
    ]
    const { bytes, mutate } = mutator(random)
    // After a clean CONNECT, a TLS record header followed by garbage.
    const tlsGarbage = () => Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), bytes(random(300))])
    const inputs = Array.from({ length: 300 }, (_, i) =>
      i % 5 === 1 && random(2) === 0
        ? [Buffer.from(seeds[1] ?? ''), tlsGarbage()]
        : [mutate(seeds[i % seeds.length] ?? '')]
    )
    const closed = await inBatches(inputs, 50, (chunks) =>
      sendAndWaitForClose(running.port, chunks)
    )
    expect(closed.filter((ok) => !ok)).toEqual([])
  })
})

/**
 * TLS to the proxy itself: clients given an https:// proxy URL open their connection with a
 * ClientHello. The proxy answers with a certificate for the name they sent (its own address
 * without one), then reads the connection as a plain one.
 */
import { once } from 'node:events'
import { connect } from 'node:net'
import { startsClientHello } from '../src/inbound/tls-to-proxy'
import { echoApp } from './helpers/apps'
import type { Echo } from './helpers/apps'
import { readHead, rawSocket, requestOver, tlsOverTunnel } from './helpers/clients'
import type { RunningProxy } from './helpers/proxy'
import { startProxy } from './helpers/proxy'
import { closeOf } from './helpers/within'

const HANDSHAKE_TIMEOUT_MS = 1_000

let running: RunningProxy
beforeEach(async () => {
  running = await startProxy(echoApp(), {
    prefix: '/prefix/',
    handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
  })
})
afterEach(async () => {
  await running.close()
})

const echo = (body: string) => JSON.parse(body) as Echo

/** A ClientHello that announces more bytes than it sends. */
const HALF_CLIENT_HELLO = Buffer.from([
  0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
])

/**
 * Send half a ClientHello straight to the proxy, with the client's FIN when `end`: what came
 * back before the proxy closed, and how long the close took.
 */
async function halfHandshake(end: boolean): Promise<{ received: string; ms: number }> {
  const socket = connect(running.port, '127.0.0.1')
  await once(socket, 'connect')
  const start = performance.now()
  const closed = closeOf(socket, 'the proxy kept a half handshake open')
  if (end) {
    socket.end(HALF_CLIENT_HELLO)
  } else {
    socket.write(HALF_CLIENT_HELLO)
  }
  const received = (await closed).toString('latin1')
  return { received, ms: performance.now() - start }
}

describe('TLS to the proxy', () => {
  it('serves absolute-form requests inside it, with a certificate for the SNI name', async () => {
    const tls = await tlsOverTunnel(await rawSocket(running.port), 'localhost', running.caPem)
    const reply = await requestOver(tls, 'http://example.com/a?b=c', { host: 'example.com' })
    expect(echo(reply.body)).toMatchObject({
      path: '/prefix/http://example.com/a?b=c',
      url: 'http://example.com/prefix/http://example.com/a?b=c',
      proxyHost: 'wsgiprox',
    })
    tls.destroy()
  })

  it('names its own address without SNI, and serves direct requests', async () => {
    const tls = await tlsOverTunnel(
      await rawSocket(running.port),
      undefined,
      running.caPem,
      '127.0.0.1'
    )
    const reply = await requestOver(tls, '/direct?x=1', { host: `127.0.0.1:${running.port}` })
    expect(echo(reply.body).path).toBe('/direct?x=1')
    expect(echo(reply.body).proxyHost).toBeNull()
    tls.destroy()
  })

  it('opens a CONNECT tunnel inside it, with TLS inside that', async () => {
    const outer = await tlsOverTunnel(await rawSocket(running.port), 'localhost', running.caPem)
    outer.write('CONNECT example.com:8443 HTTP/1.1\r\nHost: example.com:8443\r\n\r\n')
    expect(await readHead(outer)).toMatch(/^HTTP\/1\.1 200 /)
    const inner = await tlsOverTunnel(outer, 'example.com', running.caPem)
    const reply = await requestOver(inner, '/in?x=1')
    expect(echo(reply.body).path).toBe('/prefix/https://example.com:8443/in?x=1')
    inner.destroy()
    outer.destroy()
  })

  it('closes at once a connection whose client ends it half way through the handshake', async () => {
    const { received, ms } = await halfHandshake(true)
    expect(received).toBe('')
    expect(ms).toBeLessThan(HANDSHAKE_TIMEOUT_MS / 2)
  })

  it('closes a handshake that stops half way once the handshake deadline passes', async () => {
    const { received, ms } = await halfHandshake(false)
    expect(received).toBe('')
    expect(ms).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_MS - 5)
  })
})

describe('what is taken for a ClientHello', () => {
  it.each([
    ['a TLS 1.0 record holding a ClientHello', '16030100c801', true],
    ['a TLS 1.2 record holding a ClientHello', '16030302000100', true],
    ['the first byte alone, from a client sending a byte at a time', '16', true],
    ['a record of another handshake message', '16030100c802', false],
    ['SSL 2.0 style version bytes', '16020100c801', false],
    ['a record length no peer may send', '1603014a0001', false],
    ['an empty record', '160301000001', false],
    [
      'text after the byte 0x16',
      Buffer.from('\x16\x03\x01 hello\r\n', 'latin1').toString('hex'),
      false,
    ],
  ])('%s: %s', (_, hex, expected) => {
    expect(startsClientHello(Buffer.from(hex, 'hex'))).toBe(expected)
  })

  it('answers 400 at once to bytes that start with 0x16 but hold no ClientHello', async () => {
    const socket = await rawSocket(running.port)
    const closed = closeOf(socket, 'the proxy waited on bytes that are no TLS')
    socket.write(Buffer.from('\x16\x03\x01 hello\r\n\r\n', 'latin1'))
    expect((await closed).toString('latin1')).toMatch(/^HTTP\/1\.1 400 /)
  })
})

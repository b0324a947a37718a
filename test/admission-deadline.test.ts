/**
 * `handshakeTimeoutMs` bounds the client (its first bytes, its TLS handshake, its SOCKS5
 * messages); `admissionTimeoutMs` bounds the resolver. A CONNECT or a SOCKS5 handshake waiting
 * on a slow `requireAuth` is the resolver's time, not the client's.
 */
import type { Socket } from 'node:net'
import type { Resolver } from '../src/types'
import { echoApp } from './helpers/apps'
import type { Echo } from './helpers/apps'
import { connectTunnel, requestOver, tlsOverTunnel } from './helpers/clients'
import { startProxy } from './helpers/proxy'
import { socksConnect } from './helpers/socks'
import { within } from './helpers/within'

/** Far shorter than the resolver below takes, far shorter than its admission deadline. */
const HANDSHAKE_TIMEOUT_MS = 300
const RESOLVER_DELAY_MS = 900

/** A resolver whose `requireAuth` takes `ms` to let every request on (or never answers). */
function slowAuth(ms: number | undefined): Resolver {
  return {
    requireAuth: () =>
      new Promise<undefined>((resolve) => {
        if (ms !== undefined) {
          setTimeout(resolve, ms)
        }
      }),
    resolve: (url) => `/p/${url}`,
  }
}

async function start(resolver: Resolver, admissionTimeoutMs: number) {
  const running = await startProxy(echoApp(), {
    resolver,
    handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
    admissionTimeoutMs,
  })
  onTestFinished(() => running.close())
  return running
}

/** The tunnel on `socket` is open: a request inside it is served. */
async function expectServedInside(socket: Socket): Promise<void> {
  const answer = await requestOver(socket, '/in')
  expect((JSON.parse(answer.body) as Echo).path).toBe('/p/http://example.com/in')
  socket.destroy()
}

describe('a slow requireAuth on a tunnel', () => {
  it('opens the CONNECT tunnel once it answers, past handshakeTimeoutMs', async () => {
    const running = await start(slowAuth(RESOLVER_DELAY_MS), 5000)
    const { socket, status } = await within(
      connectTunnel(running.port, 'example.com:80'),
      'no answer to the CONNECT'
    )
    expect(status).toBe(200)
    await expectServedInside(socket)
  })

  it('completes a TLS handshake whose SNI name it admits, past handshakeTimeoutMs', async () => {
    const running = await start(slowAuth(RESOLVER_DELAY_MS), 5000)
    const { socket } = await connectTunnel(running.port, 'example.com:443')
    const tls = await within(
      tlsOverTunnel(socket, 'other.example', running.caPem),
      'the TLS handshake for the SNI name did not complete'
    )
    const answer = await requestOver(tls, '/in', { host: 'other.example' })
    expect((JSON.parse(answer.body) as Echo).path).toBe('/p/https://other.example/in')
    tls.destroy()
  })

  it('answers the CONNECT 500 with the reason once admissionTimeoutMs passes', async () => {
    const running = await start(slowAuth(undefined), RESOLVER_DELAY_MS)
    const { head, status } = await within(
      connectTunnel(running.port, 'example.com:443'),
      'no answer to the CONNECT'
    )
    expect(status).toBe(500)
    expect(head).toMatch(/^HTTP\/1\.1 500 /)
    expect(running.errors.map((error) => error.message)).toContainEqual(
      expect.stringContaining('requireAuth did not answer')
    )
  })

  it('opens the SOCKS5 tunnel once it answers, past handshakeTimeoutMs', async () => {
    const running = await start(slowAuth(RESOLVER_DELAY_MS), 5000)
    const { socket, reply } = await within(
      socksConnect(running.port, 'example.com', 80, { user: 'alice', password: 'pw' }),
      'no SOCKS5 reply'
    )
    expect(reply).toBe(0)
    await expectServedInside(socket)
  })

  it('answers SOCKS5 with general failure once admissionTimeoutMs passes', async () => {
    const running = await start(slowAuth(undefined), RESOLVER_DELAY_MS)
    const { reply } = await within(
      socksConnect(running.port, 'example.com', 80, { user: 'alice', password: 'pw' }),
      'no SOCKS5 reply'
    )
    expect(reply).toBe(0x01)
  })
})

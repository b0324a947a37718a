import { Hono } from 'hono'
import { ProxyAuthResolver } from '../../src/admission/resolvers'
import type { Resolver } from '../../src/types'
import { proxyGet } from '../helpers/clients'
import { inBatches, mutator, seeded, sendAndWaitForClose } from '../helpers/fuzz'
import { startProxy } from '../helpers/proxy'

const basic = (user: string) => `Basic ${Buffer.from(`${user}:pw`).toString('base64')}`

/** Requests that attack admission: switched credentials and hosts, dot segments, odd hosts. */
const SEEDS = [
  'GET http://example.com/../../../../x HTTP/1.1\r\nHost: example.com\r\n\r\n',
  `GET http://example.com/%2e%2e/%2E%2e/x HTTP/1.1\r\nHost: example.com\r\nProxy-Authorization: ${basic('..')}\r\n\r\n`,
  `CONNECT example.com:80 HTTP/1.1\r\nHost: example.com:80\r\nProxy-Authorization: ${basic('alice')}\r\n\r\n` +
    `GET http://other.example/x HTTP/1.1\r\nHost: other.example\r\nProxy-Authorization: ${basic('bob')}\r\n\r\n`,
  'CONNECT a.com/evil:443 HTTP/1.1\r\nHost: a.com\r\n\r\n',
  'GET http://wsgiprox/download/ HTTP/1.1\r\nHost: wsgiprox\r\nX-Wsgiprox-Proxy-Host: forged\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
  'GET http://example.com/ws HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n' +
    'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  'GET http://example.com/ HTTP/1.0\r\n\r\n',
]

const fail = () => {
  throw new Error('broken')
}

/** Resolvers as users write them, broken and not. */
const RESOLVERS: [string, Resolver][] = [
  ['throws', { requireAuth: fail, resolve: fail }],
  [
    'rejects',
    {
      requireAuth: () => Promise.reject(new Error('no')),
      resolve: () => Promise.reject(new Error('no')),
    },
  ],
  [
    'is async and works',
    {
      requireAuth: () => Promise.resolve(undefined),
      resolve: (url) => Promise.resolve(`/a/${url}`),
    },
  ],
  [
    'returns null',
    { requireAuth: () => null as unknown as undefined, resolve: () => null as unknown as string },
  ],
  ['is a ProxyAuthResolver', new ProxyAuthResolver()],
]

describe.each(RESOLVERS)(
  'admission under 200 mutated attacks, with a resolver that %s',
  (name, resolver) => {
    it('closes every connection, never serves a proxied request it should refuse, and stays up', async () => {
      const seen: { path: string; proxyHost: string | undefined }[] = []
      const app = new Hono()
      app.all('*', (c) => {
        seen.push({ path: c.req.path, proxyHost: c.req.header('x-wsgiprox-proxy-host') })
        return c.text('ok')
      })
      const running = await startProxy(app, {
        resolver,
        admissionTimeoutMs: 500,
        handshakeTimeoutMs: 500,
      })
      try {
        const random = seeded(0xad + name.length)
        const { mutate } = mutator(random)
        const inputs = Array.from({ length: 200 }, (_, i) => {
          const seed = SEEDS[i % SEEDS.length] ?? ''
          return [i < SEEDS.length ? Buffer.from(seed) : mutate(seed)]
        })
        const closed = await inBatches(inputs, 50, (chunks) =>
          sendAndWaitForClose(running.port, chunks)
        )
        expect(closed.filter((ok) => !ok)).toEqual([])
        const broken = name !== 'is async and works' && name !== 'is a ProxyAuthResolver'
        const proxied = seen.filter((request) => request.proxyHost !== undefined)
        if (broken) {
          // Only proxy-host requests skip the resolver; none of them may carry a forged header.
          expect(proxied.every((request) => request.proxyHost === 'wsgiprox')).toBe(true)
          expect(proxied.filter((request) => request.path.includes('http'))).toEqual([])
        }
        // Nothing the app saw climbs out of the path admission gave it.
        expect(
          seen.filter((request) => request.path.includes('/..') || /%2e%2e/i.test(request.path))
        ).toEqual([])
        expect(seen.map((request) => request.proxyHost)).not.toContain('forged')
        const good = await proxyGet(running.port, 'http://wsgiprox/after', {
          headers: { 'proxy-authorization': basic('alice') },
        })
        expect(good.status).toBe(broken ? 500 : 200)
      } finally {
        await running.close()
      }
    })
  }
)

import { Hono } from 'hono'
import type { Resolver } from '../../src/types'
import {
  connectTunnel,
  proxyGet,
  rawExchange,
  requestOver,
  tlsOverTunnel,
} from '../helpers/clients'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'

let running: RunningProxy | undefined
let served: string[] = []
afterEach(async () => {
  await running?.close()
  running = undefined
  served = []
})

/** An app that records what it served: nothing may reach it when admission fails. */
function recordingApp() {
  const app = new Hono()
  app.all('*', (c) => {
    served.push(c.req.path)
    return c.text('served')
  })
  return app
}

/** The running proxy of the current test. */
function proxy(): RunningProxy {
  if (!running) {
    throw new Error('no proxy started')
  }
  return running
}

const never = () => new Promise<never>(() => {})

/** Ways a user's callback can be broken. */
const BROKEN: [string, () => unknown][] = [
  [
    'throws an Error',
    () => {
      throw new Error('database down')
    },
  ],
  [
    'throws a string',
    () => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- user code may throw anything
      throw 'just a string'
    },
  ],
  [
    'throws an Error whose message getter throws',
    () => {
      const error = new Error('hidden')
      Object.defineProperty(error, 'message', {
        get: () => {
          throw new Error('message getter')
        },
      })
      throw error
    },
  ],
  ['rejects', () => Promise.reject(new Error('rejected'))],
  [
    'returns a thenable that rejects',
    () => ({
      then: (_: unknown, reject: (e: Error) => void) => {
        reject(new Error('thenable'))
      },
    }),
  ],
  [
    'returns an object whose then getter throws',
    () => ({
      get then(): never {
        throw new Error('then getter')
      },
    }),
  ],
  [
    'returns a Proxy that throws on every read',
    () =>
      new Proxy(
        {},
        {
          get: () => {
            throw new Error('trap')
          },
        }
      ),
  ],
  ['returns null', () => null],
  ['returns a number', () => 42],
  ['returns an object', () => ({ realm: 'x' })],
  ['never settles', never],
]

/** Ways a resolver's answer can be unusable as a path. */
const BAD_PATHS: [string, () => unknown][] = [
  ...BROKEN,
  ['returns a path without a leading slash', () => 'no-slash'],
  ['returns a path that climbs out of its prefix', () => '/prefix/../../etc/passwd'],
  ['resolves to a path with %2e%2e', () => Promise.resolve('/a/%2e%2e/b')],
  ['returns a path with CRLF', () => '/a\r\nX-Injected: 1'],
  ['returns undefined', () => undefined],
]

async function start(resolver: Resolver) {
  const errors: { message: string; phase: string }[] = []
  running = await startProxy(recordingApp(), {
    resolver,
    admissionTimeoutMs: 300,
    onError: (error, context) => errors.push({ message: error.message, phase: context.phase }),
  })
  return errors
}

/** A resolver whose requireAuth is broken only for paths under /private (so CONNECT passes). */
function brokenInside(broken: () => unknown): Resolver {
  return {
    requireAuth: (request) =>
      new URL(request.url).pathname.startsWith('/private') ? (broken() as undefined) : undefined,
    resolve: (url) => `/ok/${url}`,
  }
}

describe.each(BROKEN)('a requireAuth that %s', (_name, broken) => {
  it('refuses an absolute-form request with a 500 that says why, and reports it', async () => {
    const errors = await start({
      requireAuth: broken as () => undefined,
      resolve: (url) => `/${url}`,
    })
    const reply = await proxyGet(proxy().port, 'http://example.com/private')
    expect(reply.status).toBe(500)
    expect(reply.body).toMatch(/^The proxy could not admit this request: requireAuth failed\n$/)
    expect(errors).toContainEqual(expect.objectContaining({ phase: 'admission' }))
    expect(served).toEqual([])
  })

  it('refuses a CONNECT before any tunnel exists', async () => {
    await start({ requireAuth: broken as () => undefined, resolve: (url) => `/${url}` })
    const reply = await rawExchange(
      proxy().port,
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'
    )
    expect(reply).toMatch(/^HTTP\/1\.1 500 .*\r\n[\s\S]*requireAuth failed\n$/)
  })

  it('refuses a request inside a TLS tunnel, and the proxy serves the next tunnel', async () => {
    await start(brokenInside(broken))
    const { socket } = await connectTunnel(proxy().port, 'example.com:443')
    const tls = await tlsOverTunnel(socket, 'example.com', proxy().caPem)
    const refused = await requestOver(tls, '/private/x')
    expect(refused.status).toBe(500)
    const { socket: next } = await connectTunnel(proxy().port, 'example.com:443')
    const again = await requestOver(
      await tlsOverTunnel(next, 'example.com', proxy().caPem),
      '/public'
    )
    expect(again.body).toBe('served')
    expect(served).toEqual(['/ok/https://example.com/public'])
  })

  it('refuses a WebSocket upgrade', async () => {
    await start({ requireAuth: broken as () => undefined, resolve: (url) => `/${url}` })
    const reply = await rawExchange(
      proxy().port,
      'GET http://example.com/private HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'
    )
    expect(reply).toMatch(/^HTTP\/1\.1 500 /)
    expect(served).toEqual([])
  })

  it('refuses a proxy-host request to proxy.fetch', async () => {
    await start({ requireAuth: broken as () => undefined, resolve: (url) => `/${url}` })
    const response = await proxy().proxy.fetch(new Request('http://wsgiprox/private'))
    expect(response.status).toBe(500)
    expect(served).toEqual([])
  })
})

describe.each(BAD_PATHS)('a resolve that %s', (_name, broken) => {
  it('refuses absolute-form requests, never serving them', async () => {
    const errors = await start({ resolve: broken as () => string })
    const reply = await proxyGet(proxy().port, 'http://example.com/a')
    expect(reply.status).toBe(500)
    expect(reply.body).toBe('The proxy could not admit this request: resolve failed\n')
    expect(errors.map((error) => error.phase)).toEqual(['admission'])
    expect(served).toEqual([])
  })

  it('refuses requests inside plain tunnels', async () => {
    await start({ resolve: broken as () => string })
    const { socket } = await connectTunnel(proxy().port, 'example.com:80')
    const reply = await requestOver(socket, '/a')
    expect(reply.status).toBe(500)
    expect(served).toEqual([])
  })
})

describe('a broken onError', () => {
  it('cannot take the proxy down', async () => {
    running = await startProxy(recordingApp(), {
      resolver: {
        resolve: () => {
          throw new Error('boom')
        },
      },
      onError: () => {
        throw new Error('onError is broken too')
      },
    })
    expect((await proxyGet(running.port, 'http://example.com/')).status).toBe(500)
    expect((await proxyGet(running.port, 'http://wsgiprox/x')).body).toBe('served')
  })
})

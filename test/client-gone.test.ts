import type { Socket } from 'node:net'
import type { Resolver } from '../src/types'
import { echoApp } from './helpers/apps'
import { connectTunnel, h2OverTunnel, proxyGet, rawSocket, tlsOverTunnel } from './helpers/clients'
import { startProxy } from './helpers/proxy'
import { within } from './helpers/within'

/**
 * A resolver that holds the answer for `/held` URLs until `release()`, and tells when one is
 * asked; every other URL it answers at once. The app records every path it serves.
 */
function heldResolver() {
  let asked!: () => void
  const askedOnce = new Promise<void>((resolve) => {
    asked = resolve
  })
  let release!: () => void
  const released = new Promise<void>((resolve) => {
    release = resolve
  })
  const resolver: Resolver = {
    resolve(url) {
      if (!url.includes('/held')) {
        return `/p/${url}`
      }
      asked()
      return released.then(() => `/p/${url}`)
    },
  }
  return { resolver, asked: askedOnce, release }
}

/** Start a proxy with a held resolver; the app records the paths it serves. */
async function start() {
  const held = heldResolver()
  const served: string[] = []
  const app = echoApp()
  const recording = {
    fetch: (request: Request) => {
      served.push(new URL(request.url).pathname)
      return app.fetch(request)
    },
  }
  const running = await startProxy(recording, { resolver: held.resolver })
  onTestFinished(() => running.close())
  const sockets: Socket[] = []
  running.server.on('connection', (socket: Socket) => {
    sockets.push(socket)
  })
  return { ...held, served, running, sockets }
}

/** When `socket` closes (`once` would reject on the reset's error). */
function closeOf(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    socket.once('close', () => {
      resolve()
    })
  })
}

/** Leave at once, with a reset: the proxy sees the connection gone. */
function leave(socket: Socket): void {
  socket.on('error', () => {})
  socket.resetAndDestroy()
}

const WS_HEAD = [
  'Connection: Upgrade',
  'Upgrade: websocket',
  'Sec-WebSocket-Version: 13',
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
]

/** Each way in, sending a request for `/held` whose client can then be made to leave. */
const WAYS: [string, (port: number, caPem: string) => Promise<() => void>][] = [
  [
    'an absolute-form request',
    async (port) => {
      const socket = await rawSocket(port)
      socket.write('GET http://example.com/held HTTP/1.1\r\nHost: example.com\r\n\r\n')
      return () => {
        leave(socket)
      }
    },
  ],
  [
    'a request inside a plain tunnel',
    async (port) => {
      const { socket } = await connectTunnel(port, 'example.com:80')
      socket.write('GET /held HTTP/1.1\r\nHost: example.com\r\n\r\n')
      return () => {
        leave(socket)
      }
    },
  ],
  [
    'a request inside a TLS tunnel',
    async (port, caPem) => {
      const { socket } = await connectTunnel(port, 'example.com:443')
      const tls = await tlsOverTunnel(socket, 'example.com', caPem)
      tls.on('error', () => {})
      tls.write('GET /held HTTP/1.1\r\nHost: example.com\r\n\r\n')
      return () => {
        leave(socket)
      }
    },
  ],
  [
    'a WebSocket upgrade',
    async (port) => {
      const socket = await rawSocket(port)
      const head = ['GET http://example.com/held HTTP/1.1', 'Host: example.com', ...WS_HEAD]
      socket.write(`${head.join('\r\n')}\r\n\r\n`)
      return () => {
        leave(socket)
      }
    },
  ],
  [
    'an HTTP/2 stream',
    async (port, caPem) => {
      const { tls, session } = await h2OverTunnel(port, caPem)
      session.on('error', () => {})
      session.request({ ':path': '/held' }).on('error', () => {})
      return () => {
        leave((tls as unknown as { _parent: Socket })._parent)
      }
    },
  ],
]

describe('a client that leaves while its admission is pending', () => {
  it.each(WAYS)('%s is not served once the resolver answers', async (_way, send) => {
    const { asked, release, served, running, sockets } = await start()
    const leaveNow = await send(running.port, running.caPem)
    await within(asked, 'the resolver was not asked')
    const client = sockets.at(-1)
    const closed = client && !client.destroyed ? closeOf(client) : Promise.resolve()
    leaveNow()
    await within(closed, 'the proxy did not see the client leave')
    release()
    // A request after it, answered at once: by its answer, the held one has been decided.
    const after = await proxyGet(running.port, 'http://example.com/after')
    expect(after.status).toBe(200)
    expect(served).toEqual(['/p/http://example.com/after'])
    expect(running.errors).toEqual([])
  })

  it('does not serve an absolute-form request whose client ended its side', async () => {
    const { asked, release, served, running, sockets } = await start()
    const socket = await rawSocket(running.port)
    socket.write('GET http://example.com/held HTTP/1.1\r\nHost: example.com\r\n\r\n')
    await within(asked, 'the resolver was not asked')
    const client = sockets.at(-1)
    const closed = client ? closeOf(client) : Promise.resolve()
    socket.end()
    await within(closed, 'the proxy did not close the connection its client ended')
    release()
    const after = await proxyGet(running.port, 'http://example.com/after')
    expect(after.status).toBe(200)
    expect(served).toEqual(['/p/http://example.com/after'])
  })
})

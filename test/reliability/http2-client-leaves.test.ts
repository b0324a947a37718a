import { once } from 'node:events'
import { readdirSync } from 'node:fs'
import { connect as http2Connect } from 'node:http2'
import type { ClientHttp2Session, Settings } from 'node:http2'
import type { Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import type { TLSSocket } from 'node:tls'
import { SESSION_CLOSE_GRACE_MS } from '../../src/inbound/http2-lifecycle'
import type { ProxyOptions } from '../../src/types'
import { connectTunnel } from '../helpers/clients'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'
import { firstTunnelClose } from '../helpers/tunnel-close'
import { WAIT_MS, within } from '../helpers/within'

let running: RunningProxy | undefined
const sockets: (Socket | TLSSocket)[] = []
afterEach(async () => {
  for (const socket of sockets.splice(0)) {
    socket.destroy()
  }
  await running?.close()
  running = undefined
})

/** The descriptors this process holds: the proxy's and the test's clients'. */
const openFds = () => readdirSync('/proc/self/fd').length

/**
 * An app whose body never ends: 1 MiB chunks, read only as the proxy asks, so a client that stops
 * reading leaves the proxy's write waiting for a flow-control window. `cancelled` settles when the
 * proxy cancels the stream.
 */
function endlessApp() {
  let cancel = () => {}
  const cancelled = new Promise<void>((resolve) => {
    cancel = resolve
  })
  const app = () =>
    new Response(
      new ReadableStream<Uint8Array>(
        {
          pull(controller) {
            controller.enqueue(new Uint8Array(1 << 20).fill(97))
          },
          cancel,
        },
        { highWaterMark: 0 }
      )
    )
  return { app, cancelled }
}

/** A proxy serving `app`, and a promise of its first tunnel's closing. */
async function proxyWithTunnelClose(app: () => Response, options: ProxyOptions = {}) {
  const { onLog, tunnelClosed } = firstTunnelClose()
  running = await startProxy(app, { onLog, ...options })
  return { proxy: running, tunnelClosed }
}

/**
 * An HTTP/2 session through CONNECT: over TLS (ALPN h2), or with `plain` by prior knowledge in a
 * plain tunnel. `socket` is the TCP connection to the proxy, `transport` what the session runs
 * on (the TLS socket, or `socket` itself).
 */
async function h2Session(proxy: RunningProxy, plain: boolean, settings: Settings = {}) {
  const { socket } = await connectTunnel(proxy.port, `example.com:${plain ? 80 : 443}`)
  sockets.push(socket)
  let stream: Socket | TLSSocket = socket
  if (!plain) {
    const tls = tlsConnect({
      socket,
      servername: 'example.com',
      ca: proxy.caPem,
      ALPNProtocols: ['h2'],
    })
    sockets.push(tls)
    await once(tls, 'secureConnect')
    expect(tls.alpnProtocol).toBe('h2')
    stream = tls
  }
  const session = http2Connect(`${plain ? 'http' : 'https'}://example.com`, {
    createConnection: () => stream,
    settings,
  })
  session.on('error', () => {})
  await once(session, 'remoteSettings')
  return { socket, transport: stream, session }
}

/** Resolves once `session` has an answer to a PING sent now: the peer has read all sent before. */
function pingAnswered(session: ClientHttp2Session): Promise<void> {
  return new Promise((resolve, reject) => {
    session.ping((error) => {
      if (error) {
        reject(error)
      } else {
        resolve()
      }
    })
  })
}

/** How a client leaves in the middle of the body it no longer reads. */
const leavings = {
  /** A node:http2 client destroyed: its GOAWAY, then its socket at once. */
  'destroys its session and socket': (session: ClientHttp2Session, socket: Socket) => {
    session.destroy()
    socket.destroy()
    return Promise.resolve()
  },
  /**
   * A graceful client: GOAWAY (NO_ERROR), read by the proxy, then the client's FIN. `goaway()`
   * sends what `close()` does while the session can still PING: once the PING is answered, the
   * proxy has read the GOAWAY before it.
   */
  'sends GOAWAY then FIN': async (session: ClientHttp2Session, socket: Socket) => {
    session.goaway()
    await within(pingAnswered(session), 'the proxy did not answer a PING after the GOAWAY')
    socket.end()
  },
}

describe('http2 client that leaves in the middle of a streamed response', () => {
  it.each([
    ['TLS', 'destroys its session and socket', false],
    ['TLS', 'sends GOAWAY then FIN', false],
    ['a plain tunnel', 'destroys its session and socket', true],
    ['a plain tunnel', 'sends GOAWAY then FIN', true],
  ] as const)(
    "cancels the app's body and gives back the descriptor when a client in %s %s",
    async (_where, leaving, plain) => {
      const { app, cancelled } = endlessApp()
      const { proxy, tunnelClosed } = await proxyWithTunnelClose(app)
      const before = openFds()
      const { socket, transport, session } = await h2Session(proxy, plain)
      const req = session.request({ ':path': '/download' })
      req.on('error', () => {})
      const [headers] = (await within(
        once(req, 'response'),
        'the proxy sent no response head over HTTP/2'
      )) as [Record<string, unknown>]
      expect(headers[':status']).toBe(200)
      await within(once(req, 'data'), 'the proxy sent no body bytes over HTTP/2')
      // The client stops reading: the proxy's writes wait for a window that will never open.
      req.pause()
      const clientClosed = once(transport, 'close')
      await leavings[leaving](session, socket)

      // Open streams of a closing session have SESSION_CLOSE_GRACE_MS; then they are ended.
      const bound = SESSION_CLOSE_GRACE_MS + WAIT_MS
      await within(
        cancelled,
        "the app's body stream was not cancelled after the client left",
        bound
      )
      await within(tunnelClosed, "the proxy kept the tunnel's socket open after the client left")
      // A client that stopped reading need not read the proxy's FIN (Node 22's does not): it
      // lets go of its own side, and then only the proxy could still hold a descriptor.
      transport.destroy()
      await within(clientClosed, "the client's socket was not closed")
      expect(openFds(), 'descriptors open once the client left and its tunnel closed').toBe(before)
    }
  )
})

describe('http2 client that resets its connection while the proxy writes to it', () => {
  it("cancels the app's body and gives back the descriptor when its windows were wide open", async () => {
    const { app, cancelled } = endlessApp()
    const { proxy, tunnelClosed } = await proxyWithTunnelClose(app, { http2IdleTimeoutMs: 200 })
    const before = openFds()
    const widest = 2 ** 31 - 1
    const { socket, transport, session } = await h2Session(proxy, false, {
      initialWindowSize: widest,
    })
    // Windows as wide as HTTP/2 allows (browsers and curl open theirs to megabytes): flow
    // control never stops the proxy, whose writes wait on the socket instead.
    session.setLocalWindowSize(widest)
    const download = () => {
      const req = session.request({ ':path': '/download' })
      // Past the session's memory bound, the proxy refuses streams: ENHANCE_YOUR_CALM.
      req.on('error', () => {})
      return req
    }
    // Several streams at once, as a page's downloads: one alone does not stall the session.
    const first = download()
    for (let i = 1; i < 20; i++) {
      download()
    }
    await within(once(first, 'data'), 'the proxy sent no body bytes over HTTP/2')
    const clientClosed = once(transport, 'close')
    // The client goes away as an aborted download does: a reset, its data left unread.
    socket.resetAndDestroy()
    await within(clientClosed, "the client's socket was not closed")

    const bound = SESSION_CLOSE_GRACE_MS + WAIT_MS
    await within(cancelled, "the app's body stream was not cancelled after the reset", bound)
    await within(tunnelClosed, "the proxy kept the tunnel's socket open after the reset", bound)
    expect(openFds(), 'descriptors open once the client reset its connection').toBe(before)
  })
})

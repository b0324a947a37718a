import { upgradeWebSocket } from '@hono/node-server'
import { Hono } from 'hono'
import WebSocket from 'ws'
import type { ClientOptions, RawData } from 'ws'
import { EventEmitter, once } from 'node:events'
import { Agent } from 'node:http'
import type { ClientRequestArgs, IncomingMessage } from 'node:http'
import { connect as netConnect } from 'node:net'
import type { Duplex } from 'node:stream'
import { connectTunnel, tlsOverTunnel } from './clients'

/** What the app saw of an upgrade, sent as the first message of every echo socket. */
export interface Hello {
  app: string
  /** Path and query of the upgrade Request the app received. */
  path: string
  proxyHost: string | null
  protocol: string
  headers: Record<string, string>
}

/** A close the app saw, with what the client sent. */
export interface Closed {
  code: number
  reason: string
}

/**
 * A Hono app whose every GET upgrades to an echo socket that first sends a {@link Hello}, echoes
 * text and binary, and closes with 4001 on the text `close`. A guard in front of
 * `upgradeWebSocket` answers paths ending in `/declined` with 200 and `/forbidden` with 403.
 * `closes` emits `close` with a {@link Closed} for each socket the app saw closing; `route` limits
 * the app to one path (other paths then fall through, in a proxy app).
 */
export function echoSocketApp(tag: string, closes = new EventEmitter(), route = '*'): Hono {
  const app = new Hono()
  const upgrade = upgradeWebSocket((c) => {
    const url = new URL(c.req.url)
    return {
      onOpen(_event, ws) {
        const hello: Hello = {
          app: tag,
          path: url.pathname + url.search,
          proxyHost: c.req.header('x-wsgiprox-proxy-host') ?? null,
          protocol: ws.protocol ?? '',
          headers: Object.fromEntries(c.req.raw.headers),
        }
        ws.send(JSON.stringify(hello))
      },
      onMessage(event, ws) {
        if (event.data === 'close') {
          ws.close(4001, 'the app says bye')
          return
        }
        ws.send(event.data as string | ArrayBuffer)
      },
      onClose(event) {
        closes.emit('close', { code: event.code, reason: event.reason } satisfies Closed)
      },
    }
  })
  // A guard in front of upgradeWebSocket, as an auth middleware would be.
  app.use(route, async (c, next) => {
    if (c.req.path.endsWith('/declined')) {
      return c.text('no WebSocket here\n')
    }
    if (c.req.path.endsWith('/forbidden')) {
      return c.text('forbidden\n', 403)
    }
    await next()
  })
  app.get(route, upgrade)
  return app
}

/** An agent that opens each connection as a CONNECT tunnel, with TLS inside when given a CA. */
export class TunnelAgent extends Agent {
  readonly #proxyPort: number
  readonly #caPem: string | undefined
  readonly #connectHeaders: Record<string, string>
  /** Node's client checks the agent's protocol against the URL's (`https:` for wss). */
  readonly protocol: string

  constructor(proxyPort: number, caPem?: string, connectHeaders: Record<string, string> = {}) {
    super()
    this.#proxyPort = proxyPort
    this.#caPem = caPem
    this.#connectHeaders = connectHeaders
    this.protocol = caPem === undefined ? 'http:' : 'https:'
  }

  override createConnection(
    options: ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void
  ): undefined {
    const host = options.host ?? 'localhost'
    const authority = `${host.includes(':') ? `[${host}]` : host}:${String(options.port)}`
    const open = async () => {
      const tunnel = await connectTunnel(this.#proxyPort, authority, this.#connectHeaders)
      if (tunnel.status !== 200) {
        tunnel.socket.destroy()
        throw new Error(`CONNECT ${authority} answered ${tunnel.head}`)
      }
      // Verified against the test CA, under the name the client asked for.
      return this.#caPem === undefined
        ? tunnel.socket
        : await tlsOverTunnel(tunnel.socket, host, this.#caPem)
    }
    open().then(
      (socket) => callback?.(null, socket),
      (error: unknown) => callback?.(error as Error, undefined as unknown as Duplex)
    )
    return undefined
  }
}

/** Options of {@link tunnelledSocket}: `ws`'s, the subprotocols, and headers for the CONNECT. */
export type TunnelledOptions = ClientOptions & {
  protocols?: string[]
  connectHeaders?: Record<string, string>
}

/** A `ws` client for `url` through the proxy on `proxyPort`, tunnelled with CONNECT. */
export function tunnelledSocket(
  proxyPort: number,
  url: string,
  caPem: string,
  options: TunnelledOptions = {}
): WebSocket {
  const { protocols, connectHeaders, ...rest } = options
  const secure = url.startsWith('wss:')
  const agent = new TunnelAgent(proxyPort, secure ? caPem : undefined, connectHeaders)
  return new WebSocket(url, protocols, { ...rest, agent })
}

/** A `ws` client for `ws://` `url` sent to the proxy in absolute form (`GET ws-as-http-url`). */
export function absoluteFormSocket(
  proxyPort: number,
  url: string,
  options: ClientOptions = {}
): WebSocket {
  const absolute = url.replace(/^ws:/, 'http:')
  return new WebSocket(url, {
    ...options,
    createConnection: () => netConnect(proxyPort, '127.0.0.1'),
    finishRequest: (request) => {
      // The request line is written at end(), so the path can still change here.
      request.path = absolute
      request.end()
    },
  })
}

/** The next message of `ws`, and whether it was binary. */
export async function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  const [data, isBinary] = (await once(ws, 'message')) as [RawData, boolean]
  return { data: toBuffer(data), isBinary }
}

/** Wait for the socket to open and return the app's {@link Hello}. */
export async function openedHello(ws: WebSocket): Promise<Hello> {
  const hello = nextMessage(ws)
  await once(ws, 'open')
  return JSON.parse((await hello).data.toString()) as Hello
}

/** The status of the ordinary HTTP response a refused upgrade got; the client is closed after. */
export async function refusedStatus(ws: WebSocket): Promise<number> {
  // Aborting a handshake reports an error besides closing: expected here.
  ws.on('error', () => {})
  const closed = closeOf(ws)
  const [, response] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage]
  response.resume()
  ws.terminate()
  await closed
  return response.statusCode ?? 0
}

/** Close `ws` (if still open) and wait until it is closed. */
export async function closeSocket(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) {
    return
  }
  ws.on('error', () => {})
  const closed = closeOf(ws)
  ws.terminate()
  await closed
}

/** Resolves on `close`; unlike `once()`, an `error` before it does not reject. */
function closeOf(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    ws.once('close', () => {
      resolve()
    })
  })
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) {
    return data
  }
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)
}

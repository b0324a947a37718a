/**
 * How the one client reaches each system: TCP on loopback, CONNECT tunnels, TLS verified
 * against the system's CA (full handshakes, no session reuse), and WebSockets over either.
 */
import { WebSocket } from 'ws'
import { once } from 'node:events'
import { connect as http2Connect } from 'node:http2'
import type { ClientHttp2Session } from 'node:http2'
import { connect as netConnect } from 'node:net'
import type { Socket } from 'node:net'
import { connect as tlsConnect, createSecureContext } from 'node:tls'
import type { SecureContext, TLSSocket } from 'node:tls'
import {
  HEAD_END,
  HttpConnection,
  IDLE_TIMEOUT_MS,
  MAX_HEAD_BYTES,
  requestHead,
} from './http-connection'
import type { SystemHandle } from './systems'

const LOOPBACK = '127.0.0.1'

/** Opens a TCP connection on loopback. */
export async function connectTcp(port: number): Promise<Socket> {
  const socket = netConnect({ host: LOOPBACK, port, noDelay: true })
  await settle(socket, once(socket, 'connect'))
  return socket
}

/**
 * Awaits a socket's setup step; on failure the socket is destroyed and keeps an error listener,
 * so a late error from a dead socket cannot crash the harness.
 */
async function settle<T>(socket: Socket, step: Promise<T>): Promise<T> {
  try {
    return await step
  } catch (error) {
    socket.on('error', () => {})
    socket.destroy()
    throw error
  }
}

/** Sends `CONNECT authority` to a proxy and resolves with the tunnel once it answers 200. */
export async function openTunnel(proxyPort: number, authority: string): Promise<Socket> {
  const socket = await connectTcp(proxyPort)
  socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`)
  const data = await settle(socket, readHead(socket))
  const headEnd = data.indexOf(HEAD_END) + 4
  const statusLine = data.toString('latin1', 0, data.indexOf('\r\n'))
  if (!/^HTTP\/1\.[01] 200/.test(statusLine)) {
    socket.destroy()
    throw new Error(`CONNECT ${authority} answered ${statusLine}`)
  }
  if (data.length > headEnd) {
    socket.unshift(data.subarray(headEnd))
  }
  return socket
}

/**
 * Opens a SOCKS5 tunnel (no authentication, a domain target: what `socks5h://` clients send) and
 * resolves once the proxy replies success. Greeting and request go in one write, as clients that
 * pipeline them do; the answers (2 + 10 bytes) are read together.
 */
export async function openSocksTunnel(
  proxyPort: number,
  host: string,
  port: number
): Promise<Socket> {
  const socket = await connectTcp(proxyPort)
  const name = Buffer.from(host, 'latin1')
  // Greeting (one method: none), then VER CMD=CONNECT RSV ATYP=domain LEN name PORT.
  const bytes = Buffer.alloc(8 + name.length + 2)
  bytes.set([0x05, 0x01, 0x00, 0x05, 0x01, 0x00, 0x03, name.length])
  name.copy(bytes, 8)
  bytes.writeUInt16BE(port, 8 + name.length)
  socket.write(bytes)
  const answer = await settle(socket, readBytes(socket, 12))
  if (answer[1] !== 0x00 || answer[3] !== 0x00) {
    socket.destroy()
    throw new Error(`SOCKS5 ${host}:${port} answered ${answer.toString('hex')}`)
  }
  return socket
}

/**
 * Reads until `complete(data)` gives the length of what was wanted (or throws), then pauses,
 * putting back any byte after it, so no later byte is lost.
 */
function readUntil(
  socket: Socket,
  complete: (data: Buffer) => number | undefined,
  closedBefore: string
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let data: Buffer = Buffer.alloc(0)
    const done = (error?: Error, length = data.length) => {
      socket.pause()
      socket.off('data', onData).off('error', done).off('close', onClose)
      if (error) {
        reject(error)
        return
      }
      if (data.length > length) {
        socket.unshift(data.subarray(length))
      }
      resolve(data.subarray(0, length))
    }
    const onData = (chunk: Buffer) => {
      data = Buffer.concat([data, chunk])
      try {
        const length = complete(data)
        if (length !== undefined) {
          done(undefined, length)
        }
      } catch (error) {
        done(error as Error)
      }
    }
    const onClose = () => {
      done(new Error(closedBefore))
    }
    socket.on('data', onData).on('error', done).on('close', onClose)
  })
}

/** Reads exactly `count` bytes. */
function readBytes(socket: Socket, count: number): Promise<Buffer> {
  return readUntil(
    socket,
    (data) => (data.length >= count ? count : undefined),
    'closed before the SOCKS5 answer'
  )
}

/** Reads up to the end of a response head (the head only; the caller finds where it ends). */
function readHead(socket: Socket): Promise<Buffer> {
  return readUntil(
    socket,
    (data) => {
      if (data.includes(HEAD_END)) {
        return data.length
      }
      if (data.length > MAX_HEAD_BYTES) {
        throw new Error('response head too large')
      }
      return undefined
    },
    'closed before the CONNECT answer'
  )
}

/** A full TLS handshake (no session reuse) verified against `context`'s CA for `servername`. */
export async function startTls(
  context: SecureContext,
  servername: string,
  via: { socket: Socket } | { port: number },
  alpn?: string[]
): Promise<TLSSocket> {
  const socket = tlsConnect({
    ...('socket' in via ? { socket: via.socket } : { host: LOOPBACK, port: via.port }),
    servername,
    secureContext: context,
    ...(alpn ? { ALPNProtocols: alpn } : {}),
  })
  // Errors surface on the TLS socket; the tunnel under it must not throw them a second time.
  if ('socket' in via) {
    via.socket.on('error', () => {})
  }
  socket.setNoDelay(true)
  await settle(socket, once(socket, 'secureConnect'))
  return socket
}

/** How the client reaches one system: through it as a proxy, or straight to it. */
export interface Target {
  /** A connection W1 sends `httpHead` on. */
  openHttp(): Promise<HttpConnection>
  httpHead: Buffer
  /** A verified TLS connection to `host`: in a CONNECT tunnel for a proxy, direct otherwise. */
  openTls(host: string): Promise<TLSSocket>
  /** An HTTP/2 session to `host` over such a connection, h2 chosen by ALPN. */
  openH2(host: string): Promise<ClientHttp2Session>
  /** The same in a SOCKS5 tunnel, for a proxy that speaks SOCKS5. */
  openSocksTls?: (host: string) => Promise<TLSSocket>
}

/** An HTTP/2 session over `socket`, which must have chosen h2. */
async function h2Session(host: string, socket: TLSSocket): Promise<ClientHttp2Session> {
  if (socket.alpnProtocol !== 'h2') {
    socket.destroy()
    throw new Error(`ALPN chose ${String(socket.alpnProtocol)}, not h2`)
  }
  const session = http2Connect(`https://${host}`, { createConnection: () => socket })
  session.on('error', () => {})
  await once(session, 'remoteSettings')
  return session
}

export function targetFor(system: SystemHandle): Target {
  // One secure context per system: the CA is parsed once, not on every handshake.
  const context = createSecureContext({ ca: system.caPem })
  if (system.proxy) {
    return {
      openHttp: async () => new HttpConnection(await connectTcp(system.port)),
      httpHead: requestHead('http://example.com/', 'example.com'),
      openTls: async (host) =>
        startTls(context, host, { socket: await openTunnel(system.port, `${host}:443`) }),
      openH2: async (host) =>
        h2Session(
          host,
          await startTls(context, host, { socket: await openTunnel(system.port, `${host}:443`) }, [
            'h2',
          ])
        ),
      ...(system.socks === true && {
        openSocksTls: async (host: string) =>
          startTls(context, host, { socket: await openSocksTunnel(system.port, host, 443) }),
      }),
    }
  }
  const tlsPort = system.tlsPort
  if (tlsPort === undefined) {
    throw new Error(`${system.name} has no TLS port`)
  }
  return {
    openHttp: async () => new HttpConnection(await connectTcp(system.port)),
    httpHead: requestHead('/', 'example.com'),
    openTls: (host) => startTls(context, host, { port: tlsPort }),
    openH2: async (host) => {
      if (system.h2TlsPort === undefined) {
        throw new Error(`${system.name} has no HTTP/2 port`)
      }
      return h2Session(host, await startTls(context, host, { port: system.h2TlsPort }, ['h2']))
    },
  }
}

/** A WebSocket to `wss://host/ws` over a connection from `target` (tunnelled for proxies). */
export async function openWebSocket(target: Target, host: string): Promise<WebSocket> {
  const socket = await target.openTls(host)
  socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy(new Error('WebSocket timed out')))
  const ws = new WebSocket(`wss://${host}/ws`, {
    createConnection: () => socket,
    // Off on both ends by default in `ws` servers; offering it would tilt toward a peer that accepts.
    perMessageDeflate: false,
  })
  // Failures show up as a rejected open or a 'close' during a round trip (see nextMessage).
  ws.on('error', () => {})
  await once(ws, 'open')
  return ws
}

/** The next message on `ws`; rejects when it closes first. */
export function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    const onMessage = (data: Buffer) => {
      ws.off('close', onClose).off('error', reject)
      resolve(data.toString())
    }
    const onClose = () => {
      ws.off('message', onMessage).off('error', reject)
      reject(new Error('WebSocket closed'))
    }
    ws.once('message', onMessage).once('close', onClose).once('error', reject)
  })
}

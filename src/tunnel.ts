/**
 * CONNECT tunnels: check the target and the credentials, answer 200, then look at the client's
 * first bytes to tell TLS from plain HTTP (on any port) and hand the socket to the HTTP server.
 * @module
 */
import type { IncomingMessage, Server } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { CertificateAuthority } from './ca/authority'
import { normalizeHost } from './ca/hostname'
import type { Connections } from './connections'
import type { NormalizedOptions } from './options'
import { terminateTls } from './tls'
import type { TunnelInfo } from './translate'
import { headersOf, parseAuthority, requestOf } from './translate'

/** A TLS record of type handshake starts every ClientHello (RFC 8446 §5.1). */
const TLS_HANDSHAKE_RECORD = 0x16

/** TCP keep-alive probes on tunnel sockets, so dead peers behind NATs are noticed. */
const TCP_KEEPALIVE_INITIAL_DELAY_MS = 30_000

const tunnels = new WeakMap<Duplex, TunnelInfo>()

/** The tunnel a socket handed to the HTTP server belongs to, if any. */
export function tunnelOf(socket: Duplex): TunnelInfo | undefined {
  return tunnels.get(socket)
}

/** What a tunnel needs from the proxy. */
export interface TunnelDeps {
  options: NormalizedOptions
  connections: Connections
  getCa: () => Promise<CertificateAuthority>
}

/** Handle the `connect` event of `server`. Never throws; problems go to `onError`. */
export function handleConnect(
  server: Server,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  deps: TunnelDeps
): void {
  const { options } = deps
  const report = (error: Error, phase: 'connect' | 'tunnel' | 'tls', host?: string) => {
    options.onError(error, { phase, host })
  }
  socket.on('error', (error) => {
    report(error, 'tunnel', req.url)
  })

  const target = connectTarget(req.url ?? '')
  if (!target) {
    endWith(socket, 400, 'Bad Request', `Invalid CONNECT target: ${JSON.stringify(req.url ?? '')}`)
    return
  }
  const realm = options.resolver.requireAuth?.(
    requestOf(`https://${target.authority}/`, 'GET', headersOf(req))
  )
  if (realm !== undefined) {
    endWith(socket, 407, 'Proxy Authentication Required', 'Proxy authentication required', [
      `Proxy-Authenticate: ${basicChallenge(realm)}`,
    ])
    return
  }

  const info: TunnelInfo = {
    host: target.host,
    port: target.port,
    proxyAuthorization: req.headers['proxy-authorization'],
  }
  socket.write(`HTTP/${req.httpVersion} 200 Connection Established\r\n\r\n`)
  deps.connections.add(socket)
  // 'connect' hands over the net.Socket the client connected with.
  const raw = socket as unknown as Socket
  raw.setKeepAlive(true, TCP_KEEPALIVE_INITIAL_DELAY_MS)
  raw.setNoDelay(true)

  // Until the handshake completes, the tunnel has a deadline; once TLS wraps the socket, only
  // destroying the TLS socket closes the connection.
  const deadline = {
    socket,
    timer: setTimeout(() => deadline.socket.destroy(), options.handshakeTimeoutMs),
  }
  const timer = deadline.timer
  const start = (first: Buffer) => {
    if (first[0] !== TLS_HANDSHAKE_RECORD) {
      clearTimeout(timer)
      tunnels.set(socket, info)
      server.emit('connection', socket)
      socket.resume()
      return
    }
    startTls(server, raw, info, deps, deadline).catch((error: unknown) => {
      clearTimeout(timer)
      report(error instanceof Error ? error : new Error(String(error)), 'tls', info.host)
      socket.destroy()
    })
  }
  if (head.length > 0) {
    // Bytes the client sent right behind the CONNECT line; hold the rest until a parser is on.
    socket.pause()
    socket.unshift(head)
    start(head)
    return
  }
  socket.once('data', (first: Buffer) => {
    socket.pause()
    socket.unshift(first)
    start(first)
  })
  socket.resume()
}

async function startTls(
  server: Server,
  socket: Socket,
  info: TunnelInfo,
  deps: TunnelDeps,
  deadline: { socket: Duplex; timer: NodeJS.Timeout }
): Promise<void> {
  const { timer } = deadline
  const wildcard = deps.options.useWildcardCerts
  const ca = await deps.getCa()
  const context = await ca.secureContext(info.host, { wildcard })
  if (socket.destroyed) {
    return
  }
  const tlsSocket = terminateTls(socket, ca, info.host, context, wildcard)
  deadline.socket = tlsSocket
  tlsSocket.on('error', (error: Error) => {
    clearTimeout(timer)
    deps.options.onError(error, { phase: 'tls', host: info.host })
    tlsSocket.destroy()
  })
  tlsSocket.once('secure', () => {
    clearTimeout(timer)
  })
  tunnels.set(tlsSocket, info)
  // Node's HTTP server parses what the TLS socket decrypts, as for any other connection.
  server.emit('connection', tlsSocket)
}

/** `host:port` of a CONNECT line, with a host that could go into a certificate. */
function connectTarget(url: string) {
  const parsed = parseAuthority(url, undefined)
  if (!parsed) {
    return undefined
  }
  try {
    const { name } = normalizeHost(parsed.host)
    const authority = name.includes(':') ? `[${name}]:${parsed.port}` : `${name}:${parsed.port}`
    return { host: name, port: parsed.port, authority }
  } catch {
    return undefined
  }
}

/** Answer on a raw socket (no ServerResponse exists for CONNECT or upgrades) and close it. */
export function endWith(
  socket: Duplex,
  status: number,
  reason: string,
  body: string,
  extraHeaders: string[] = []
): void {
  if (socket.destroyed) {
    return
  }
  const text = `${body}\n`
  const head = [
    `HTTP/1.1 ${status} ${reason}`,
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(text)}`,
    'Connection: close',
    ...extraHeaders,
  ]
  socket.end(`${head.join('\r\n')}\r\n\r\n${text}`)
}

/** The `Proxy-Authenticate` value asking for Basic credentials in `realm`. */
export function basicChallenge(realm: string): string {
  return `Basic realm="${realm.replace(/["\\]/g, '\\$&')}"`
}

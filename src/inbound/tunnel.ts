/**
 * Tunnels: once a CONNECT (connect.ts) or a SOCKS5 request is admitted and confirmed, the
 * client's first bytes tell TLS from plain HTTP (on any port) before the socket goes to the HTTP
 * server. `openTunnel` is the part every way into a tunnel shares.
 * @module
 */
import type { Server } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { TLSSocket } from 'node:tls'
import type { TunnelIdentity } from '../admission/decision'
import type { Gate } from '../admission/gate'
import type { Authority } from '../admission/target'
import type { CertificateAuthority } from '../ca/authority'
import { toError } from '../errors'
import type { LogRecord } from '../log/records'
import { clientOf } from '../log/watch'
import type { NormalizedOptions } from '../options'
import { andThen } from '../util/settled'
import { toHttpServer } from './accept'
import type { Connections } from './connections'
import type { Http2Front } from './http2'
import { mayBeginHttp2Preface, startsHttp2Preface } from './http2-direct'
import { resumedName, terminateTls } from './tls'
import { TLS_HANDSHAKE_RECORD } from './tls-to-proxy'

/** TCP keep-alive probes on tunnel sockets, so dead peers behind NATs are noticed. */
const TCP_KEEPALIVE_INITIAL_DELAY_MS = 30_000

/**
 * Where a socket handed to the HTTP server keeps the tunnel it belongs to: read on every request,
 * a property costs less than a WeakMap's lookup. Only this module sets it.
 */
const TUNNEL = Symbol('wsgiprox.tunnel')

/** A socket, with the tunnel it belongs to once it is handed to the HTTP server. */
type TunnelSocket = Duplex & { [TUNNEL]?: TunnelIdentity }

/** The tunnel a socket handed to the HTTP server belongs to, if any. */
export function tunnelOf(socket: Duplex): TunnelIdentity | undefined {
  return (socket as TunnelSocket)[TUNNEL]
}

function markTunnel(socket: Duplex, identity: TunnelIdentity): void {
  ;(socket as TunnelSocket)[TUNNEL] = identity
}

/** What a tunnel needs from the proxy. */
export interface TunnelDeps {
  options: NormalizedOptions
  gate: Gate
  connections: Connections
  getCa: () => Promise<CertificateAuthority>
  /** The HTTP/2 server; `undefined` when `http2` is off. */
  http2: Http2Front | undefined
}

/**
 * Make `socket` a tunnel to `target`, admitted for `authorization` and confirmed to the client
 * (CONNECT's 200, SOCKS5's success reply): TLS (terminated with a certificate for the host) or
 * plain HTTP, told by its first byte, then parsed by `server`. `head` holds bytes the client
 * already sent.
 */
export function openTunnel(
  server: Server,
  socket: Duplex,
  head: Buffer,
  target: Authority,
  authorization: string | undefined,
  deps: TunnelDeps
): void {
  const identity: TunnelIdentity = {
    host: target.host,
    port: target.port,
    authorization,
    scheme: 'http',
  }
  deps.connections.add(socket)
  // Every way into a tunnel hands over the net.Socket the client connected with.
  const raw = socket as unknown as Socket
  raw.setKeepAlive(true, TCP_KEEPALIVE_INITIAL_DELAY_MS)
  raw.setNoDelay(true)

  // Until the handshake completes, the tunnel has a deadline; once TLS wraps the socket, only
  // destroying the TLS socket closes the connection.
  const deadline: Deadline = { socket, timer: undefined, alpn: undefined }
  armDeadline(deadline, deps.options.handshakeTimeoutMs)
  const log = deps.options.onLog
  if (log) {
    logTunnel(log, socket, identity, deadline)
  }
  // A client that ends the tunnel before its first byte (a browser's unused preconnect) will
  // send nothing more: the tunnel is over, not waiting for its deadline.
  const endedEarly = () => {
    clearTimeout(deadline.timer)
    socket.destroy()
  }
  socket.once('end', endedEarly)
  if (socket.readableEnded) {
    // It ended its side while admission decided: that 'end' came and went, and nothing (`head`
    // included) can be put back into the socket after it. Node's HTTP server would abort a
    // request from a client that has ended its side anyway.
    endedEarly()
    return
  }
  const start = (first: Buffer) => {
    socket.off('end', endedEarly)
    deps.connections.spoke(socket)
    if (first[0] !== TLS_HANDSHAKE_RECORD) {
      clearTimeout(deadline.timer)
      markTunnel(socket, identity)
      if (deps.http2 && startsHttp2Preface(first)) {
        // The session reads the socket itself, bytes already buffered included.
        deps.http2.serve(socket, identity, socket, server.requestTimeout)
        return
      }
      toHttpServer(server, socket)
      socket.resume()
      return
    }
    startTls(server, raw, identity, deps, deadline, first).catch((error: unknown) => {
      clearTimeout(deadline.timer)
      deps.options.onError(toError(error), { phase: 'tls', host: identity.host })
      socket.destroy()
    })
  }
  // A client that sends its HTTP/2 preface slowly is waited for, within the deadline.
  const tooShort = (first: Buffer) => deps.http2 !== undefined && mayBeginHttp2Preface(first)
  if (head.length > 0 && !tooShort(head)) {
    // Bytes the client sent right behind the CONNECT line; hold the rest until a parser is on.
    socket.pause()
    socket.unshift(head)
    start(head)
    return
  }
  let held = head
  const onData = (chunk: Buffer) => {
    held = held.length > 0 ? Buffer.concat([held, chunk]) : chunk
    if (tooShort(held)) {
      return
    }
    socket.off('data', onData)
    socket.pause()
    socket.unshift(held)
    start(held)
  }
  socket.on('data', onData)
  socket.resume()
}

/**
 * A tunnel until its handshake completes: the socket the deadline destroys (the TLS socket once
 * there is one), and the ALPN protocol chosen, once TLS is up (`none` when the client offered
 * none).
 */
interface Deadline {
  socket: Duplex
  timer: NodeJS.Timeout | undefined
  alpn: string | undefined
}

/** Destroy the deadline's socket `ms` from now, unless the timer is cleared first. */
function armDeadline(deadline: Deadline, ms: number): void {
  deadline.timer = setTimeout(() => deadline.socket.destroy(), ms)
}

/** Report the tunnel's opening now and its closing later. */
function logTunnel(
  log: (record: LogRecord) => void,
  socket: Duplex,
  identity: TunnelIdentity,
  deadline: Deadline
): void {
  const start = performance.now()
  const client = clientOf(socket)
  log({ type: 'tunnel-open', time: new Date(), client, host: identity.host, port: identity.port })
  socket.once('close', () => {
    log({
      type: 'tunnel-close',
      time: new Date(),
      client,
      host: identity.host,
      port: identity.port,
      durationMs: performance.now() - start,
      tls: deadline.alpn !== undefined,
      alpn: deadline.alpn === 'none' ? undefined : deadline.alpn,
    })
  })
}

async function startTls(
  server: Server,
  socket: Socket,
  identity: TunnelIdentity,
  deps: TunnelDeps,
  deadline: Deadline,
  hello: Buffer
): Promise<void> {
  const wildcard = deps.options.useWildcardCerts
  const ca = await deps.getCa()
  const context = await ca.secureContext(identity.host, { wildcard })
  if (socket.destroyed) {
    return
  }
  const secure: TunnelIdentity = { ...identity, scheme: 'https' }
  const admitName = (servername: string) =>
    andThen(deps.gate.admitName(secure, servername), (name) => {
      if (name !== secure.host) {
        secure.sni = name
      }
      return name
    })
  const tlsSocket = terminateTls(socket, {
    host: identity.host,
    context,
    ca,
    wildcard,
    http2: deps.http2 !== undefined,
    admitName: (servername) => {
      const admitted = admitName(servername)
      if (admitted instanceof Promise) {
        // The handshake waits on admission (bounded by admissionTimeoutMs), not on the client:
        // the client's deadline starts again once the name is decided.
        clearTimeout(deadline.timer)
        const again = () => {
          if (!deadline.socket.destroyed) {
            armDeadline(deadline, deps.options.handshakeTimeoutMs)
          }
        }
        admitted.then(again, again)
      }
      return admitted
    },
  })
  deadline.socket = tlsSocket
  tlsSocket.on('error', (error: Error) => {
    clearTimeout(deadline.timer)
    deps.options.onError(error, { phase: 'tls', host: secure.sni ?? secure.host })
    tlsSocket.destroy()
  })
  markTunnel(tlsSocket, secure)
  // A client that ends its side before the handshake completes can never complete it: the
  // tunnel closes now rather than at its deadline. An end read before TLS took the socket over
  // is told by the raw socket, once TLS has drained what it held; a later one by the TLS socket.
  const endedInHandshake = () => {
    clearTimeout(deadline.timer)
    tlsSocket.destroy()
  }
  socket.once('end', endedInHandshake)
  tlsSocket.once('end', endedInHandshake)
  tlsSocket.once('secure', () => {
    socket.off('end', endedInHandshake)
    tlsSocket.off('end', endedInHandshake)
    clearTimeout(deadline.timer)
    deadline.alpn = typeof tlsSocket.alpnProtocol === 'string' ? tlsSocket.alpnProtocol : 'none'
    // A resumed session skips the SNICallback: its name is admitted now, before any request is
    // read, with this tunnel's credentials (the session may come from another tunnel's).
    const resumed = resumedName(tlsSocket, hello)
    const admitted = resumed === undefined ? undefined : admitName(resumed)
    if (admitted instanceof Promise) {
      admitted.then(
        () => {
          serveTls(server, tlsSocket, socket, secure, deps)
        },
        (error: unknown) => tlsSocket.destroy(toError(error))
      )
    } else {
      serveTls(server, tlsSocket, socket, secure, deps)
    }
  })
}

/** Hand a TLS socket whose handshake is done to HTTP/2 or to Node's HTTP server, by its ALPN. */
function serveTls(
  server: Server,
  tlsSocket: TLSSocket,
  socket: Socket,
  secure: TunnelIdentity,
  deps: TunnelDeps
): void {
  if (tlsSocket.destroyed) {
    return
  }
  // The client's ALPN choice is known now; until then what it sends waits, decrypted.
  if (tlsSocket.alpnProtocol === 'h2' && deps.http2) {
    // A server-side TLSSocket made without a tls.Server keeps `secureConnecting` true after
    // its handshake, and an HTTP/2 session would wait for a 'secureConnect' that never comes.
    ;(tlsSocket as TLSSocket & { secureConnecting: boolean }).secureConnecting = false
    deps.http2.serve(tlsSocket, secure, socket, server.requestTimeout)
  } else {
    // Node's HTTP server parses what the TLS socket decrypts, as for any other connection.
    toHttpServer(server, tlsSocket)
  }
}

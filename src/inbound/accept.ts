/**
 * The accept path: what happens to a connection between the TCP accept and the HTTP server's
 * parser. In order: [the PROXY protocol header, when `proxyProtocol` is on] → [a look at the
 * first bytes, when SOCKS or HTTP/2 is on: 0x05 is SOCKS5, the HTTP/2 preface gets HTTP/2's
 * refusal, anything else is HTTP] → the HTTP server's own `connection` listeners, with every
 * byte after the header intact.
 * @module
 */
import type { Server } from 'node:http'
import { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { TLSSocket } from 'node:tls'
import { refusedBytesRecord } from '../log/parse-error-record'
import type { LogRecord } from '../log/records'
import type { ErrorContext } from '../types'
import { setClientAddress } from './client-address'
import { readFirst } from './first-bytes'
import { mayBeginHttp2Preface, startsHttp2Preface } from './http2-direct'
import { parseProxyHeader } from './proxy-protocol'
import { replyOnSocket } from './replies'
import { SOCKS5_VERSION } from './socks5'
import { startsClientHello } from './tls-to-proxy'

/** What the accept path needs from the proxy's options. */
export interface AcceptOptions {
  /** Require a PROXY protocol (v1 or v2) header in front of every connection. */
  proxyProtocol: boolean
  /** How long a new connection may take to send its PROXY header, or its first byte. */
  headerTimeoutMs: number
  /** Speak SOCKS5 to a connection whose first byte is 0x05; `undefined` when SOCKS is off. */
  socks: ((socket: Socket) => void) | undefined
  /** Answer a connection that starts with the HTTP/2 preface; `undefined` when HTTP/2 is off. */
  http2: ((socket: Socket) => void) | undefined
  /** Terminate TLS to the proxy itself on a connection whose first byte opens a TLS record. */
  tls: ((socket: Socket, toHttp: (socket: Socket) => void) => void) | undefined
  onError: (error: Error, context: ErrorContext) => void
  onLog: ((record: LogRecord) => void) | undefined
}

type ConnectionListener = (this: Server, socket: Duplex) => void

/** The HTTP server's own `connection` listeners, of each server with an accept path in front. */
const httpEntries = new WeakMap<Server, ConnectionListener[]>()

/**
 * Hand a connection that is past the accept path (a tunnel's socket, the TLS socket inside it, a
 * connection given back after an ignored Upgrade) straight to `server`'s HTTP parser.
 */
export function toHttpServer(server: Server, socket: Duplex): void {
  const listeners = httpEntries.get(server)
  if (!listeners) {
    // No accept path in front: the server's listeners are Node's own.
    server.emit('connection', socket)
    return
  }
  for (const listener of listeners) {
    listener.call(server, socket)
  }
}

/**
 * Put the accept path in front of `server`'s `connection` listeners (Node's HTTP parser, and
 * whatever else was there), which it calls once a connection is through. Returns a function
 * that puts them back.
 */
export function installAcceptPath(server: Server, options: AcceptOptions): () => void {
  const { socks, http2 } = options
  if (!options.proxyProtocol && !socks && !http2 && !options.tls) {
    // Nothing to read before HTTP: Node's own listener stays, at no cost per connection.
    return () => {}
  }
  const listeners = server.listeners('connection') as ConnectionListener[]
  httpEntries.set(server, listeners)
  // Connections still in the accept path belong to no server yet, whose closing would close
  // them: detaching (as `proxy.close()` does) closes them here.
  const waiting = new Set<Socket>()
  const toHttp = (socket: Socket) => {
    waiting.delete(socket)
    toHttpServer(server, socket)
  }
  // The second stage: hand a connection to the protocol its first byte speaks.
  const dispatch =
    socks || http2 || options.tls
      ? (socket: Socket) => {
          sniffFirstByte(socket, options, toHttp)
        }
      : toHttp
  const onConnection = (socket: Socket) => {
    // The proxy hands its own sockets to HTTP past this path (toHttpServer); a stream someone
    // else emits that is no TCP connection has no first bytes to look at here.
    if (socket instanceof TLSSocket || !(socket instanceof Socket)) {
      toHttp(socket)
      return
    }
    waiting.add(socket)
    socket.once('close', () => waiting.delete(socket))
    if (!options.proxyProtocol) {
      dispatch(socket)
      return
    }
    readProxyHeader(socket, options, () => {
      dispatch(socket)
    })
  }
  server.removeAllListeners('connection')
  server.on('connection', onConnection)
  return () => {
    httpEntries.delete(server)
    server.off('connection', onConnection)
    for (const listener of listeners) {
      server.on('connection', listener)
    }
    for (const socket of waiting) {
      socket.destroy()
    }
    waiting.clear()
  }
}

/**
 * Let `socket` flow again once the current 'data' event is over. The accept path reads a
 * connection's first bytes in a 'data' listener and puts them back; resumed there, the stream's
 * loop would hand them to the HTTP server before the 'resume' event Node defers, whose late
 * arrival then starts the socket reading again after the server paused it for a request body the
 * app does not read: the whole body would pile up in memory. Resumed on the next tick, the
 * 'resume' comes first, and the server's pauses hold.
 */
function resumeLater(socket: Socket): void {
  process.nextTick(resume, socket)
}

function resume(socket: Socket): void {
  socket.resume()
}

/**
 * Read the PROXY header off `socket`, bounded in time (`headerTimeoutMs`) and in bytes (the
 * format's own limits: 107 for v1, 16 + 65,535 for v2), then call `next` with the bytes after
 * the header put back in front of the stream. A connection without a valid header is refused:
 * with `400 Bad Request` when its bytes look like an HTTP request (someone skipped the load
 * balancer), closed otherwise; either way `onError` is told, with the `accept` phase.
 */
function readProxyHeader(socket: Socket, options: AcceptOptions, next: () => void): void {
  const chunks: Buffer[] = []
  let received = 0
  let needed = 1
  const report = (message: string) => {
    const peer = `${socket.remoteAddress ?? '?'}:${String(socket.remotePort ?? '?')}`
    options.onError(new Error(`PROXY protocol: ${message} (connection from ${peer})`), {
      phase: 'accept',
    })
  }
  const onData = (chunk: Buffer) => {
    chunks.push(chunk)
    received += chunk.length
    if (received < needed) {
      // A v2 header announced its length: gather it whole rather than parse every packet.
      return
    }
    const bytes = chunks.length === 1 ? chunk : Buffer.concat(chunks)
    chunks.length = 0
    chunks.push(bytes)
    const result = parseProxyHeader(bytes)
    if (result.kind === 'incomplete') {
      needed = result.needed
      return
    }
    done()
    if (result.kind === 'invalid') {
      report(`${result.reason}; closed the connection`)
      refuse(socket, bytes, options.onLog)
      return
    }
    const { header } = result
    if (header.addresses) {
      setClientAddress(socket, header.addresses)
    }
    // Hold the bytes behind the header until the HTTP server's listener is on.
    socket.pause()
    if (bytes.length > header.length) {
      socket.unshift(bytes.subarray(header.length))
    }
    next()
    resumeLater(socket)
  }
  const done = readFirst(socket, options, {
    data: onData,
    end: () => {
      // A bare connect and close is a TCP health check or a port scan: nothing to report.
      if (received > 0) {
        report('the connection ended inside the header')
      }
      socket.destroy()
    },
    timeout: () => {
      report(`no complete header within ${options.headerTimeoutMs} ms; closed the connection`)
      socket.destroy()
    },
  })
}

/**
 * Hand `socket` to SOCKS when its first byte is 0x05 (RFC 1928 §3), to HTTP/2's refusal when it
 * starts the HTTP/2 preface, else to HTTP, with the bytes put back. One 'data' event and an
 * unshift: HTTP connections pay nothing more. A client silent for `headerTimeoutMs` goes to
 * HTTP, whose own timeouts then apply as they did before. The socket stays among the waiting
 * (closed by detaching) unless it goes to HTTP.
 */
function sniffFirstByte(
  socket: Socket,
  options: AcceptOptions,
  toHttp: (socket: Socket) => void
): void {
  let held: Buffer | undefined
  const done = readFirst(socket, options, {
    data: (chunk) => {
      const first = held ? Buffer.concat([held, chunk]) : chunk
      held = options.http2 && mayBeginHttp2Preface(first) ? first : undefined
      if (held) {
        return
      }
      done()
      socket.pause()
      socket.unshift(first)
      if (options.socks && first[0] === SOCKS5_VERSION) {
        options.socks(socket)
        return
      }
      if (options.http2 && startsHttp2Preface(first)) {
        options.http2(socket)
        return
      }
      if (options.tls && startsClientHello(first)) {
        options.tls(socket, toHttp)
        return
      }
      toHttp(socket)
      resumeLater(socket)
    },
    // A bare connect and close is a health check or a port scan: nothing to report.
    end: () => socket.destroy(),
    timeout: () => {
      if (held) {
        socket.unshift(held)
      }
      toHttp(socket)
    },
  })
  socket.resume()
}

/** A request line's start: a method token and a space (RFC 9112 §3). */
const HTTP_REQUEST_START = /^[A-Z]+ /

function refuse(socket: Socket, bytes: Buffer, onLog: AcceptOptions['onLog']): void {
  const start = bytes.toString('latin1', 0, 16)
  if (HTTP_REQUEST_START.test(start) && !start.startsWith('PROXY ')) {
    // The request parser never saw it, so keep-alive cannot go on: answer and close.
    socket.on('error', () => {})
    const sent = replyOnSocket(
      socket,
      400,
      'This port takes connections through a load balancer that sends the PROXY protocol header'
    )
    onLog?.(refusedBytesRecord(bytes, socket, { status: 400, bytes: sent }, undefined))
    // The HTTP server keeps half-open sockets (allowHalfOpen): do not wait for the client's end.
    socket.once('finish', () => socket.destroy())
    return
  }
  socket.destroy()
}

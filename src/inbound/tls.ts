/**
 * TLS termination inside a tunnel, with a certificate for the host the client names and the
 * application protocol the client prefers.
 * @module
 */
import type { Socket } from 'node:net'
import type { SecureContext, TLSSocketOptions } from 'node:tls'
import { TLSSocket } from 'node:tls'
import { hostFromWire } from '../admission/wire-host'
import type { CertificateAuthority } from '../ca/authority'
import { toError } from '../errors'
import type { Settled } from '../util/settled'
import { inheritClientAddress } from './client-address'
import { serverNameOf } from './client-hello'

/** The HTTP versions served inside intercepted TLS, by their ALPN ids (RFC 7301). */
const HTTP1_PROTOCOLS = ['http/1.1', 'http/1.0']

/** What TLS termination needs. */
export interface TlsOptions {
  /** The tunnel's own host, normalised. */
  host: string
  /** The context of `host`, ready before the handshake starts. */
  context: SecureContext
  ca: CertificateAuthority
  wildcard: boolean
  /** Whether `h2` may be chosen. */
  http2: boolean
  /**
   * Admit an SNI name: the normalised name (now or later), or a rejection that refuses the
   * handshake.
   */
  admitName(servername: string): Settled<string>
}

/**
 * Wrap `socket` in a server-side TLS socket. Clients that send no SNI (those that CONNECT to an
 * IP address, for instance) get the tunnel host's certificate; a ClientHello whose SNI names
 * another host gets that host's certificate once admission lets the tunnel's credentials have
 * it, and a refused or invalid name ends the handshake (the connection closes, with no alert:
 * Node sends none for a failed SNICallback). ALPN picks the newest HTTP version the client
 * offers.
 */
export function terminateTls(socket: Socket, options: TlsOptions): TLSSocket {
  const { ca, wildcard } = options
  const served = options.http2 ? ['h2', ...HTTP1_PROTOCOLS] : HTTP1_PROTOCOLS
  const tlsSocket = serverTlsSocket(socket, {
    secureContext: options.context,
    // The newest version the client offers: some clients list http/1.1 before h2 (Python's
    // httpx) yet want h2 wherever a server has it, as most servers choose.
    ALPNCallback: ({ protocols }) => served.find((protocol) => protocols.includes(protocol)),
    SNICallback(servername, callback) {
      // OpenSSL's bytes, as Latin-1 text: a raw UTF-8 name (Node's own clients send one) is read
      // as UTF-8, and bytes that are not UTF-8 fail the handshake.
      const name = hostFromWire(servername)
      if (name === undefined) {
        callback(new Error('The SNI name is not UTF-8'), undefined)
        return
      }
      const fail = (error: unknown) => {
        callback(toError(error), undefined)
      }
      const useName = (admitted: string): Promise<void> | undefined => {
        if (admitted === options.host) {
          // The socket already holds this context: passing it again would make OpenSSL copy
          // its certificate and key into the connection once more.
          callback(null, undefined)
          return undefined
        }
        return ca.secureContext(admitted, { wildcard }).then((context) => {
          callback(null, context)
        })
      }
      // Most handshakes name the tunnel's own host, admitted at once: the handshake goes on
      // without waiting for the next turn of the event loop.
      const admitted = options.admitName(name)
      if (admitted instanceof Promise) {
        admitted.then(useName).catch(fail)
      } else {
        useName(admitted)?.catch(fail)
      }
    },
  })
  // The client's address from a PROXY protocol header, where there was one.
  inheritClientAddress(socket, tlsSocket)
  return tlsSocket
}

/**
 * The SNI name of a resumed session, read as the SNICallback reads it; `undefined` after a full
 * handshake (the SNICallback had the name) or when the client sent none. OpenSSL calls no
 * SNICallback when a client resumes a session (a TLS 1.2 session id or ticket, a TLS 1.3 ticket),
 * so its name must be admitted after the handshake. A TLS 1.2 resumption does not report the
 * name: it is read from `hello`, the first bytes of the handshake. A name that is not UTF-8 is
 * given as the empty string, which admission refuses.
 */
export function resumedName(tlsSocket: TLSSocket, hello: Buffer): string | undefined {
  if (!tlsSocket.isSessionReused()) {
    return undefined
  }
  const reported = (tlsSocket as TLSSocket & { servername?: unknown }).servername
  const servername = typeof reported === 'string' ? reported : serverNameOf(hello)
  return servername ? (hostFromWire(servername) ?? '') : undefined
}

/**
 * A server-side TLS socket over `socket`, shaped as a `tls.Server`'s are: its idle timeout is set
 * (to none) from the start, as `handshakeTimeout` sets a `tls.Server`'s. Without it, the HTTP
 * server's first keep-alive timeout adds a property mid-life, and the idle timer Node refreshes on
 * every read and write meets one shape of socket too many to stay fast (bench/README.md).
 */
export function serverTlsSocket(socket: Socket, options: TLSSocketOptions): TLSSocket {
  const tlsSocket = new TLSSocket(socket, { ...options, isServer: true })
  tlsSocket.setTimeout(0)
  return tlsSocket
}

/**
 * TLS to the proxy itself. A client given an `https://` proxy URL (Python's urllib3 1.26 and
 * later, curl's `--proxy https://...`) opens its connection to the proxy with a ClientHello
 * instead of a request line. The proxy answers with a certificate from its CA for the name the
 * client sent in SNI (its own address when it sent none) and then reads the connection as it
 * reads a plain one: absolute-form requests, CONNECT (whose tunnel runs inside this TLS) and
 * direct requests.
 */
import type { Socket } from 'node:net'
import { validHost } from '../admission/target'
import { hostFromWire } from '../admission/wire-host'
import type { CertificateAuthority } from '../ca/authority'
import { toError } from '../errors'
import type { ErrorContext } from '../types'
import { serverTlsSocket } from './tls'

/** A TLS record of type handshake starts every ClientHello (RFC 8446 §5.1). */
export const TLS_HANDSHAKE_RECORD = 0x16

/** The handshake message type of a ClientHello (RFC 8446 §4). */
const CLIENT_HELLO = 0x01

/** The largest record a TLS 1.2 or 1.3 peer may send before the handshake: 2^14 + 2048 bytes. */
const MAX_RECORD_LENGTH = 16_384 + 2048

/**
 * Whether `first`, a connection's first bytes, can start a ClientHello: a handshake record of
 * TLS 1.0 to 1.3 (`16 03 0x`), a length a record may have, and a ClientHello inside. What it
 * holds of those is checked; anything else, even with the first byte `0x16`, is read as HTTP and
 * gets its `400` at once instead of waiting out the handshake's deadline.
 */
export function startsClientHello(first: Buffer): boolean {
  if (first[0] !== TLS_HANDSHAKE_RECORD) {
    return false
  }
  if (first.length > 1 && first[1] !== 0x03) {
    return false
  }
  if (first.length > 2 && (first[2] ?? 0) > 0x04) {
    return false
  }
  if (first.length > 4) {
    const length = first.readUInt16BE(3)
    if (length === 0 || length > MAX_RECORD_LENGTH) {
      return false
    }
  }
  return first.length <= 5 || first[5] === CLIENT_HELLO
}

export interface TlsToProxyDeps {
  getCa: () => Promise<CertificateAuthority>
  /** How long the handshake may take, as for a tunnel's. */
  handshakeTimeoutMs: number
  onError: (error: Error, context: ErrorContext) => void
}

/** Terminate TLS on `socket` and hand the decrypted connection to `toHttp` once it is up. */
export function acceptTlsToProxy(
  socket: Socket,
  deps: TlsToProxyDeps,
  toHttp: (socket: Socket) => void
): void {
  const timer = setTimeout(() => socket.destroy(), deps.handshakeTimeoutMs)
  const fail = (error: unknown, host?: string) => {
    clearTimeout(timer)
    deps.onError(toError(error), { phase: 'tls', host })
    socket.destroy()
  }
  // The proxy's own address, as a client that connects to it by IP address names it.
  const own = validHost((socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, ''))
  if (own === undefined) {
    fail(new Error(`no certificate for the local address ${String(socket.localAddress)}`))
    return
  }
  deps
    .getCa()
    .then(async (ca) => {
      const context = await ca.secureContext(own, { wildcard: false })
      if (socket.destroyed) {
        clearTimeout(timer)
        return
      }
      const tlsSocket = serverTlsSocket(socket, {
        secureContext: context,
        ALPNProtocols: ['http/1.1', 'http/1.0'],
        SNICallback(servername, callback) {
          const text = hostFromWire(servername)
          const name = text === undefined ? undefined : validHost(text)
          if (name === undefined) {
            callback(new Error('The SNI name is not a valid host name'), undefined)
            return
          }
          ca.secureContext(name, { wildcard: false }).then(
            (named) => {
              callback(null, named)
            },
            (error: unknown) => {
              callback(toError(error), undefined)
            }
          )
        },
      })
      tlsSocket.on('error', (error: Error) => {
        fail(error, own)
        tlsSocket.destroy()
      })
      // A client that ends its side before the handshake completes can never complete it.
      const endedInHandshake = () => {
        clearTimeout(timer)
        tlsSocket.destroy()
      }
      socket.once('end', endedInHandshake)
      tlsSocket.once('end', endedInHandshake)
      tlsSocket.once('secure', () => {
        clearTimeout(timer)
        socket.off('end', endedInHandshake)
        tlsSocket.off('end', endedInHandshake)
        toHttp(tlsSocket)
      })
      socket.resume()
    })
    .catch((error: unknown) => {
      fail(error, own)
    })
}

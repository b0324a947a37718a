/**
 * TLS to the proxy itself. A client given an `https://` proxy URL (Python's urllib3 1.26 and
 * later, curl's `--proxy https://...`) opens its connection to the proxy with a ClientHello
 * instead of a request line. The proxy answers with a certificate from its CA for the name the
 * client sent in SNI (its own address when it sent none) and then reads the connection as it
 * reads a plain one: absolute-form requests, CONNECT (whose tunnel runs inside this TLS) and
 * direct requests.
 */
import type { Socket } from 'node:net'
import { TLSSocket } from 'node:tls'
import { validHost } from '../admission/target'
import { hostFromWire } from '../admission/wire-host'
import type { CertificateAuthority } from '../ca/authority'
import { toError } from '../errors'
import type { ErrorContext } from '../types'

/** A TLS record of type handshake starts every ClientHello (RFC 8446 §5.1). */
export const TLS_HANDSHAKE_RECORD = 0x16

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
      const tlsSocket = new TLSSocket(socket, {
        isServer: true,
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

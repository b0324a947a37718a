/**
 * TLS termination inside a CONNECT tunnel, with a certificate for the host the client names.
 * @module
 */
import type { Socket } from 'node:net'
import type { SecureContext } from 'node:tls'
import { TLSSocket } from 'node:tls'
import type { CertificateAuthority } from './ca/authority'
import { inheritClientAddress } from './client-address'

/**
 * Wrap `socket` in a server-side TLS socket. The CONNECT host's context is ready before the
 * handshake starts (clients that send no SNI, such as those that CONNECT to an IP address, get
 * it); a ClientHello whose SNI names another host gets that host's certificate instead.
 */
export function terminateTls(
  socket: Socket,
  ca: CertificateAuthority,
  connectHost: string,
  context: SecureContext,
  wildcard: boolean
): TLSSocket {
  const tlsSocket = new TLSSocket(socket, {
    isServer: true,
    secureContext: context,
    // The internal server speaks HTTP/1.1 only; offering h2 would break every browser.
    ALPNProtocols: ['http/1.1'],
    SNICallback(servername, callback) {
      if (servername.toLowerCase() === connectHost) {
        // The socket already holds this context: no context keeps it, where passing it again
        // would make OpenSSL copy its certificate and key into the connection once more.
        callback(null, undefined)
        return
      }
      ca.secureContext(servername, { wildcard }).then(
        (sniContext) => {
          callback(null, sniContext)
        },
        (error: unknown) => {
          callback(error instanceof Error ? error : new Error(String(error)), undefined)
        }
      )
    },
  })
  inheritClientAddress(socket, tlsSocket)
  return tlsSocket
}

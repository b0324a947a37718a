/**
 * The client's address when a load balancer connected on its behalf, and the address the client
 * connected to: shown where every reader already looks, `socket.remoteAddress`, `remotePort` and
 * `remoteFamily` for the one, `localAddress`, `localPort` and `localFamily` for the other.
 * @module
 */
import type { Socket } from 'node:net'
import type { ProxiedAddresses } from './proxy-protocol'

const clients = new WeakMap<Socket, ProxiedAddresses>()

/**
 * Make `socket` report the client the PROXY header named, and the balancer's address it
 * connected to (the header's destination). Hono's `getConnInfo` (`@hono/node-server/conninfo`),
 * resolvers and logs read `incoming.socket.remoteAddress`; the PAC file, the landing page and
 * the direct PAC URL read `localAddress` and `localPort` to name the proxy as the client reached
 * it. So the addresses go there, as own properties of this one socket shadowing the prototype's
 * getters: nothing of Node's is patched.
 */
export function setClientAddress(socket: Socket, addresses: ProxiedAddresses): void {
  clients.set(socket, addresses)
  define(socket, addresses)
}

/**
 * Carry the addresses from a socket to the one that wraps it: a TLS socket reads them from the
 * connection's handle, not from the socket it was made over.
 */
export function inheritClientAddress(from: Socket, to: Socket): void {
  const addresses = clients.get(from)
  if (addresses) {
    clients.set(to, addresses)
    define(to, addresses)
  }
}

function define(socket: Socket, { source, destination, family }: ProxiedAddresses) {
  Object.defineProperties(socket, {
    remoteAddress: { value: source.address, configurable: true },
    remotePort: { value: source.port, configurable: true },
    remoteFamily: { value: family, configurable: true },
    localAddress: { value: destination.address, configurable: true },
    localPort: { value: destination.port, configurable: true },
    localFamily: { value: family, configurable: true },
  })
}

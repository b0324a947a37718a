/**
 * The client's address when a load balancer connected on its behalf: shown where every reader
 * already looks, `socket.remoteAddress`, `remotePort` and `remoteFamily`.
 * @module
 */
import type { Socket } from 'node:net'
import type { ProxiedAddresses } from './proxy-protocol'

const clients = new WeakMap<Socket, ProxiedAddresses['source'] & { family: string }>()

/**
 * Make `socket` report the client the PROXY header named. Hono's `getConnInfo`
 * (`@hono/node-server/conninfo`), resolvers and logs all read `incoming.socket.remoteAddress`,
 * so the address goes there, as an own property of this one socket shadowing the prototype's
 * getter: nothing of Node's is patched, and the local side (`localAddress`) is left as it is.
 */
export function setClientAddress(socket: Socket, addresses: ProxiedAddresses): void {
  const client = { ...addresses.source, family: addresses.family }
  clients.set(socket, client)
  define(socket, client)
}

/**
 * Carry the client's address from a socket to the one that wraps it: a TLS socket reads its
 * peer from the connection's handle, not from the socket it was made over.
 */
export function inheritClientAddress(from: Socket, to: Socket): void {
  const client = clients.get(from)
  if (client) {
    clients.set(to, client)
    define(to, client)
  }
}

function define(socket: Socket, client: { address: string; port: number; family: string }) {
  Object.defineProperties(socket, {
    remoteAddress: { value: client.address, configurable: true },
    remotePort: { value: client.port, configurable: true },
    remoteFamily: { value: client.family, configurable: true },
  })
}

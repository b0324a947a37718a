/**
 * The messages between a cluster's primary and its workers, tagged so that they pass by the
 * user's own.
 * @module
 */
import type { Worker } from 'node:cluster'
import type { AddressInfo } from 'node:net'

export type Message = { wsgiprox: 'listening'; address: AddressInfo } | { wsgiprox: 'stop' }

export function send(to: Worker | NodeJS.Process, message: Message): void {
  // A worker that is exiting has closed its channel: it needs no message any more.
  to.send?.(message, undefined, undefined, () => {})
}

export function isMessage(message: unknown): message is Message {
  return typeof message === 'object' && message !== null && 'wsgiprox' in message
}

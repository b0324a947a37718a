/**
 * Bounded waits: a test that waits for something the proxy should do fails with a sentence
 * saying what did not happen, well before the test's own timeout, instead of by timing out.
 */
import type { Duplex } from 'node:stream'

/** How long a test waits for the proxy to act before it fails: well under the 10 s test timeout. */
export const WAIT_MS = 3000

/** `promise`, or a rejection with `failure` once `ms` have passed without it settling. */
export async function within<T>(promise: Promise<T>, failure: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${failure} (waited ${ms} ms)`))
    }, ms)
  })
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Watch `socket` from now on: resolves with every byte it received once it closes, and fails with
 * `failure` when it is still open after `ms`. Call it before writing, so no byte is missed.
 */
export function closeOf(socket: Duplex, failure: string, ms = WAIT_MS): Promise<Buffer> {
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  // A reset is a close too; the client only sees the connection go.
  socket.on('error', () => {})
  const closed = new Promise<Buffer>((resolve) => {
    socket.once('close', () => {
      resolve(Buffer.concat(chunks))
    })
  })
  return within(closed, failure, ms)
}

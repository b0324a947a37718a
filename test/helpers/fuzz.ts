import { once } from 'node:events'
import { createConnection } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

/** A small deterministic PRNG (mulberry32): the same inputs on every run. */
export function seeded(seed: number): (below: number) => number {
  let state = seed
  return (below) => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below)
  }
}

export async function inBatches<T, R>(items: T[], size: number, fn: (item: T) => Promise<R>) {
  const results: R[] = []
  for (let i = 0; i < items.length; i += size) {
    results.push(...(await Promise.all(items.slice(i, i + size).map(fn))))
  }
  return results
}

/**
 * Writes the chunks, half-closes after 100 ms, and resolves whether the proxy closed the
 * connection within 3 s (an answer and a close, or a close: never a hang).
 */
export async function sendAndWaitForClose(port: number, chunks: Buffer[]): Promise<boolean> {
  const socket = createConnection(port, '127.0.0.1')
  socket.on('error', () => {})
  socket.resume()
  // Listening from the start: the proxy may close before the last chunk is written.
  const closed = once(socket, 'close').then(() => true)
  const stop = new AbortController()
  const tooLate = sleep(3000, false, { signal: stop.signal }).catch(() => false)
  for (const chunk of chunks) {
    socket.write(chunk)
    await sleep(20)
  }
  const half = setTimeout(() => {
    socket.end()
  }, 100)
  const result = await Promise.race([closed, tooLate])
  clearTimeout(half)
  stop.abort()
  socket.destroy()
  return result
}

/** Byte-level mutations of a request: a changed byte, inserted random bytes, or a cut. */
export function mutator(random: (below: number) => number) {
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => random(256)))
  const mutate = (text: string) => {
    let data = Buffer.from(text)
    for (let edits = 1 + random(4); edits > 0; edits--) {
      const at = random(data.length)
      const kind = random(4)
      if (kind < 2) {
        data[at] = random(256)
      } else if (kind === 2) {
        data = Buffer.concat([data.subarray(0, at), bytes(random(50)), data.subarray(at)])
      } else {
        data = data.subarray(0, at)
      }
    }
    return data
  }
  return { bytes, mutate }
}

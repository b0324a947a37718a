/**
 * Once a second: the proxy process's RSS, open handles and event-loop delay from its metrics
 * endpoint, its file descriptors from /proc, and the p99 of request durations from the
 * histogram's buckets over the last few seconds.
 */
import { once } from 'node:events'
import { readdir } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import type { IncomingMessage } from 'node:http'

/** One line of the chart: what the proxy looked like at `t` seconds into the run. */
export interface Sample {
  t: number
  rssMB: number | undefined
  fds: number | undefined
  handles: number | undefined
  loopDelayP99Ms: number | undefined
  /** Server-side p99 of request durations over the last {@link P99_WINDOW} samples. */
  p99Ms: number | undefined
  /** Client-side p99 of the keep-alive loops' requests since the last sample. */
  clientP99Ms: number | undefined
  requestsPerSecond: number | undefined
  tunnels: number | undefined
  h2Sessions: number | undefined
}

/** Samples the server-side p99 is computed over. */
export const P99_WINDOW = 5

/** Samples of the exposition text, by name and label string: `name{a="b"}` → value. */
export type Scrape = Map<string, number>

export function parseExposition(text: string): Scrape {
  const scrape: Scrape = new Map()
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?) (\S+)/.exec(line)
    if (match?.[1] !== undefined) {
      scrape.set(match[1], Number(match[2]))
    }
  }
  return scrape
}

/** The sum of every sample of `name` whose labels contain all of `having`. */
export function total(scrape: Scrape, name: string, having: string[] = []): number {
  let sum = 0
  for (const [key, value] of scrape) {
    if ((key === name || key.startsWith(`${name}{`)) && having.every((h) => key.includes(h))) {
      sum += value
    }
  }
  return sum
}

/** The duration histogram's cumulative counts by upper bound (seconds), all protocols. */
export function buckets(scrape: Scrape): Map<number, number> {
  const counts = new Map<number, number>()
  for (const [key, value] of scrape) {
    const match = /^wsgiprox_request_duration_seconds_bucket\{le="([^"]+)"/.exec(key)
    if (match?.[1] !== undefined) {
      const le = match[1] === '+Inf' ? Infinity : Number(match[1])
      counts.set(le, (counts.get(le) ?? 0) + value)
    }
  }
  return counts
}

/** The p99 (ms) of what was observed between two bucket snapshots, interpolated in a bucket. */
export function p99Between(before: Map<number, number>, after: Map<number, number>) {
  const bounds = [...after.keys()].sort((a, b) => a - b)
  const delta = bounds.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0))
  const count = delta.at(-1) ?? 0
  if (count <= 0) {
    return undefined
  }
  const rank = 0.99 * count
  for (let i = 0; i < bounds.length; i++) {
    if ((delta[i] ?? 0) >= rank) {
      const lower = i === 0 ? 0 : (bounds[i - 1] ?? 0)
      const upper = bounds[i] ?? lower
      if (!Number.isFinite(upper)) {
        return lower * 1000
      }
      const below = i === 0 ? 0 : (delta[i - 1] ?? 0)
      const inBucket = (delta[i] ?? 0) - below
      return (lower + ((upper - lower) * (rank - below)) / Math.max(inBucket, 1)) * 1000
    }
  }
  return undefined
}

/** The 99th percentile of `values`, or `undefined` for none. */
export function percentile99(values: number[]): number | undefined {
  if (values.length === 0) {
    return undefined
  }
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))]
}

/** The metrics of the proxy on `port`, read through it as an operator would. */
export async function scrapeMetrics(port: number): Promise<Scrape | undefined> {
  const req = httpRequest({
    host: '127.0.0.1',
    port,
    path: 'http://wsgiprox/metrics',
    agent: false,
    timeout: 5_000,
  })
  req.on('timeout', () => req.destroy())
  req.end()
  try {
    const [res] = (await once(req, 'response')) as [IncomingMessage]
    const chunks: Buffer[] = []
    for await (const chunk of res) {
      chunks.push(chunk as Buffer)
    }
    return res.statusCode === 200 ? parseExposition(Buffer.concat(chunks).toString()) : undefined
  } catch {
    return undefined
  }
}

/** The open file descriptors of process `pid`. */
export async function countFds(pid: number): Promise<number | undefined> {
  try {
    return (await readdir(`/proc/${pid}/fd`)).length
  } catch {
    return undefined
  }
}

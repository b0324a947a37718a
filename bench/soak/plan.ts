/**
 * Every loop the soak runs, with its bounds: how many clients at once, the most operations it
 * may start (a rate times the run's length), how long one may take, and the pause between two.
 */
import { h2Operations } from './clients-h2'
import { httpOperations } from './clients-http'
import { FAULTS } from './faults'
import type { FaultKind } from './faults'
import type { LoopOptions, LoopStats, Operation } from './loop'
import { newStats } from './loop'
import type { Target } from './tunnel'

export interface PlannedLoop {
  name: string
  options: LoopOptions
  operation: Operation
  stats: LoopStats
}

/** `perSecond`: the most operations a second the loop may average, which bounds its count. */
function bound(seconds: number, perSecond: number, rest: Omit<LoopOptions, 'iterations'>) {
  return { ...rest, iterations: Math.ceil(seconds * perSecond) }
}

/** The loops of a run of `seconds` with `faults`, their stats, and what closes their agents. */
export function planLoops(target: Target, seconds: number, faults: FaultKind[], run: string) {
  const stats: Record<string, LoopStats> = {}
  const http = httpOperations(target, run)
  const h2 = h2Operations(target, stats)
  // name, most operations a second, clients at once, time per operation, pause (ms), operation
  const table: [string, number, number, number, number, Operation][] = [
    ['http1', 400, 4, 10_000, 5, http.http1],
    ['h2', 4, 2, 60_000, 0, h2.h2],
    ['websocket', 20, 2, 10_000, 100, h2.websocket],
    ['socks', 10, 1, 10_000, 100, http.socks],
    ['newHosts', 5, 1, 10_000, 200, http.newHosts],
    ['slowReaders', 1, 2, 30_000, 500, http.slowReaders],
    ['resets', 5, 1, 10_000, 200, http.resets],
    ['h2Fin', 1, 1, 10_000, 1_000, h2.h2Fin],
    ['h2Idle', 0.2, 3, 60_000, 1_000, h2.h2Idle],
  ]
  const loops: Omit<PlannedLoop, 'stats'>[] = table.map(
    ([name, perSecond, concurrency, timeoutMs, pauseMs, operation]) => ({
      name,
      options: bound(seconds, perSecond, { concurrency, timeoutMs, pauseMs }),
      operation,
    })
  )
  for (const kind of faults) {
    loops.push({
      name: `fault-${kind}`,
      options: bound(seconds, 0.5, { concurrency: 1, timeoutMs: 10_000, pauseMs: 2_000 }),
      operation: faultOperation(FAULTS[kind], h2.h2Fault(kind), http.fault(kind)),
    })
  }
  const planned = loops.map((loop): PlannedLoop => {
    const loopStats = newStats()
    stats[loop.name] = loopStats
    return { ...loop, stats: loopStats }
  })
  return { loops: planned, stats, close: http.close }
}

/** The operation of a fault asked over `protocol`; `both` takes HTTP/1.1 and h2 in turn. */
function faultOperation(protocol: string, overH2: Operation, overHttp1: Operation): Operation {
  if (protocol === 'both') {
    return (signal, i) => (i % 2 ? overH2 : overHttp1)(signal, i)
  }
  return protocol === 'h2' ? overH2 : overHttp1
}

/**
 * How busy the rest of the machine was during a measurement. The benchmark shares 2 cores with
 * whatever else runs (other people's test suites, too): a cell run while something else used
 * a core is flagged rather than silently reported as the system being slow.
 */
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'

/** Linux's USER_HZ: /proc/stat counts in hundredths of a second. */
const US_PER_TICK = 10_000
/** user, nice, system, irq, softirq, steal in `cpu  user nice system idle iowait irq ...`. */
const BUSY_FIELDS = [1, 2, 3, 6, 7, 8]

export interface CpuWindow {
  busyUs: number
  at: number
}

/** Busy CPU time of the whole machine so far (steal counts: the hypervisor took the core). */
export function machineCpu(): CpuWindow | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0]?.split(/ +/) ?? []
    if (fields[0] !== 'cpu' || fields.length < 9) {
      return undefined
    }
    const ticks = BUSY_FIELDS.reduce((sum, i) => sum + Number(fields[i]), 0)
    return { busyUs: ticks * US_PER_TICK, at: performance.now() }
  } catch {
    // Not Linux: the figure is simply left out.
    return undefined
  }
}

/** Cores' worth of CPU used by processes other than `ownUs` (client + server) since `start`. */
export function otherCores(start: CpuWindow | undefined, ownUs: number): number | undefined {
  const end = machineCpu()
  if (!start || !end) {
    return undefined
  }
  const elapsedUs = (end.at - start.at) * 1000
  return Math.max(0, (end.busyUs - start.busyUs - ownUs) / elapsedUs)
}

/**
 * What one libFuzzer run did, read from its output: executions, executions per second and
 * coverage. The `stat::` lines of `-print_final_stats` come last, after the recommended
 * dictionary, and the output of a target with a long dictionary can stop before them (the
 * admission and response-headers logs of a 90 s run end half way through the dictionary, exit
 * code 0): the last status line (`#521737 DONE cov: 542 ft: 1709 ... exec/s: 5733`) is read
 * then, where the summary table used to show 0 runs.
 * @module
 */

/** Executions, executions per second and coverage (`cov N ft M`, or `-` when none was printed). */
export interface RunStats {
  runs: number
  perSecond: number
  coverage: string
}

/** The statistics of the run whose output is `output`. */
export function runStats(output: string): RunStats {
  const status = [...output.matchAll(/^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+).*?exec\/s: (\d+)/gm)].at(
    -1
  )
  const stat = (name: string) => new RegExp(`stat::${name}:\\s+(\\d+)`).exec(output)?.[1]
  return {
    runs: Number(stat('number_of_executed_units') ?? status?.[1] ?? 0),
    perSecond: Number(stat('average_exec_per_sec') ?? status?.[4] ?? 0),
    coverage: status ? `cov ${status[2]} ft ${status[3]}` : '-',
  }
}

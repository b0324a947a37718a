import { runStats } from '../fuzz/log-stats'

/** The end of a run's output, as libFuzzer prints it, with the final stats or without them. */
const STATUS = [
  '#521001\tREDUCE cov: 541 ft: 1700 corp: 219/37Kb lim: 1998 exec/s: 5790 rss: 309Mb L: 5/9 MS: 1 EraseBytes-',
  '#521737\tDONE   cov: 542 ft: 1709 corp: 219/37Kb lim: 1998 exec/s: 5733 rss: 309Mb',
  '###### Recommended dictionary. ######',
  '"set-cookie" # Uses: 481',
]
const STATS = [
  '###### End of recommended dictionary. ######',
  'Done 521737 runs in 91 second(s)',
  'stat::number_of_executed_units: 521737',
  'stat::average_exec_per_sec:     5733',
  'stat::new_units_added:          867',
]

describe('the statistics of a fuzz run', () => {
  it('reads the final stats when they were printed', () => {
    expect(runStats([...STATUS, ...STATS].join('\n'))).toEqual({
      runs: 521_737,
      perSecond: 5733,
      coverage: 'cov 542 ft 1709',
    })
  })

  it('reads the last status line when the output stops half way through the dictionary', () => {
    expect(runStats([...STATUS, '"\\000\\000'].join('\n'))).toEqual({
      runs: 521_737,
      perSecond: 5733,
      coverage: 'cov 542 ft 1709',
    })
  })

  it('reports no runs and no coverage for output with neither', () => {
    expect(runStats('INFO: Seed: 1\n')).toEqual({ runs: 0, perSecond: 0, coverage: '-' })
  })
})

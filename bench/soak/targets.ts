/**
 * The soak's targets, checked on the samples after warm-up: RSS grows less than 1 MB per 10
 * minutes, the file descriptors are back to their baseline once the clients have closed, the
 * p99 of request durations stays within 2x of its first window, and nothing failed beyond the
 * faults the soak injects.
 */
import type { Sample } from './sample'

export interface Check {
  name: string
  pass: boolean
  /** Not judged: the run was too short to tell (counts as passed). */
  skipped?: boolean
  /** The figure and the bound, in words. */
  detail: string
}

/** RSS may grow by at most this much per 10 minutes. */
export const RSS_SLOPE_MAX_MB_PER_10_MIN = 1

/**
 * The least time after warm-up over which an RSS slope is judged: over less, the heap's own
 * swings (tens of MB as V8 grows and collects) swamp a bound of 1 MB per 10 minutes.
 */
export const RSS_SPAN_MIN_SECONDS = 300

/** fds the proxy may hold above its baseline at the end (none). */
export const FD_TOLERANCE = 0

/** The p99 of any later window may be at most this many times that of the first. */
export const P99_RATIO_MAX = 2

/** Least-squares slope of `y` over `x`. */
export function slope(points: [number, number][]): number {
  const n = points.length
  if (n < 2) {
    return 0
  }
  const mx = points.reduce((s, [x]) => s + x, 0) / n
  const my = points.reduce((s, [, y]) => s + y, 0) / n
  let num = 0
  let den = 0
  for (const [x, y] of points) {
    num += (x - mx) * (y - my)
    den += (x - mx) ** 2
  }
  return den === 0 ? 0 : num / den
}

export interface TargetInput {
  samples: Sample[]
  warmupSeconds: number
  /** The p99 windows, seconds long, after warm-up: the first, then the rest. */
  p99Windows: { from: number; to: number; p99Ms: number | undefined }[]
  fdBaseline: number | undefined
  fdEnd: number | undefined
  proxyExit: string | undefined
  /** Failures of the clients that were not provoked on purpose, by loop. */
  unexpectedFailures: Record<string, number>
  /** Errors the proxy reported, by phase, that no injected fault explains. */
  unexpectedErrors: Record<string, number>
}

export function checkTargets(input: TargetInput): Check[] {
  const after = input.samples.filter((s) => s.t >= input.warmupSeconds && s.rssMB !== undefined)
  const rssSlope = slope(after.map((s) => [s.t, s.rssMB ?? 0])) * 600
  const [first, ...rest] = input.p99Windows
  const worst = Math.max(...rest.map((w) => w.p99Ms ?? 0), 0)
  const failures = Object.entries(input.unexpectedFailures).filter(([, n]) => n > 0)
  const errors = Object.entries(input.unexpectedErrors).filter(([, n]) => n > 0)
  return [
    {
      name: 'proxy stays up',
      pass: input.proxyExit === undefined,
      detail: input.proxyExit ?? 'the proxy process ran to the end',
    },
    rssCheck(after.length > 1 ? (after.at(-1)?.t ?? 0) - (after[0]?.t ?? 0) : 0, rssSlope),
    {
      name: 'fds back to baseline',
      pass:
        input.fdEnd !== undefined &&
        input.fdBaseline !== undefined &&
        input.fdEnd <= input.fdBaseline + FD_TOLERANCE,
      detail: `${input.fdEnd ?? '?'} at the end, ${input.fdBaseline ?? '?'} at the start`,
    },
    rest.length === 0
      ? {
          name: 'p99 steady',
          pass: true,
          skipped: true,
          detail: `not judged: one window after warm-up, p99 ${first?.p99Ms?.toFixed(1) ?? '?'} ms`,
        }
      : {
          name: 'p99 steady',
          pass: first?.p99Ms !== undefined && worst <= P99_RATIO_MAX * first.p99Ms,
          detail: `worst window ${worst.toFixed(1)} ms, first ${first?.p99Ms?.toFixed(1) ?? '?'} ms (target ≤ ${P99_RATIO_MAX}x)`,
        },
    {
      name: 'no unexpected failure',
      pass: failures.length === 0 && errors.length === 0,
      detail:
        [
          ...failures.map(([loop, n]) => `${loop}: ${n} failed`),
          ...errors.map(([phase, n]) => `onError ${phase}: ${n}`),
        ].join(', ') || 'none',
    },
  ]
}

function rssCheck(span: number, rssSlope: number): Check {
  const figure = `${rssSlope.toFixed(2)} MB per 10 min over ${(span / 60).toFixed(1)} min after warm-up (target < ${RSS_SLOPE_MAX_MB_PER_10_MIN})`
  if (span < RSS_SPAN_MIN_SECONDS) {
    return {
      name: 'RSS slope',
      pass: true,
      skipped: true,
      detail: `not judged, ${RSS_SPAN_MIN_SECONDS / 60} min after warm-up needed: ${figure}`,
    }
  }
  return { name: 'RSS slope', pass: rssSlope < RSS_SLOPE_MAX_MB_PER_10_MIN, detail: figure }
}

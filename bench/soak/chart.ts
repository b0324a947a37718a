/**
 * The soak's picture: one SVG, four panels over the same time axis (memory, descriptors,
 * latency, load), the warm-up shaded, each target drawn as a dashed line, and the verdict of
 * every check written under them. Hand-written SVG: no browser or canvas needed to make it.
 */
import type { Sample } from './sample'
import type { Check } from './targets'

const WIDTH = 960
const PANEL = 150
const LEFT = 60
const RIGHT = 150
const TOP = 64

interface Series {
  label: string
  color: string
  values: (number | undefined)[]
}

interface Guide {
  label: string
  color: string
  /** A horizontal line at `y`, or a segment from `from` to `to` (t, value). */
  y?: number
  from?: [number, number]
  to?: [number, number]
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;')

function panel(
  index: number,
  title: string,
  times: number[],
  duration: number,
  warmup: number,
  series: Series[],
  guides: Guide[]
): string {
  const top = TOP + index * (PANEL + 30)
  const plotWidth = WIDTH - LEFT - RIGHT
  // The scale fits what comes after warm-up: the first handshakes must not flatten the rest.
  const settled = (values: (number | undefined)[]) =>
    values.filter((v, j): v is number => v !== undefined && (times[j] ?? 0) >= warmup)
  const all = [
    ...series.flatMap((s) => settled(s.values)),
    ...guides.flatMap((g) =>
      [g.y, g.from?.[1], g.to?.[1]].filter((v): v is number => v !== undefined)
    ),
  ]
  // Lines above the 99th percentile of what is drawn are clipped at the top, so that one spike
  // does not flatten the rest.
  const sorted = all.sort((a, b) => a - b)
  const max = Math.max(sorted[Math.floor(0.99 * (sorted.length - 1))] ?? 0, 1) * 1.25
  const x = (t: number) => LEFT + (t / Math.max(duration, 1)) * plotWidth
  const y = (v: number) => top + PANEL - (Math.min(v, max) / max) * PANEL
  const parts = [
    `<text x="${LEFT}" y="${top - 8}" font-weight="bold">${escape(title)}</text>`,
    `<rect x="${LEFT}" y="${top}" width="${x(warmup) - LEFT}" height="${PANEL}" fill="#eee"/>`,
    `<rect x="${LEFT}" y="${top}" width="${plotWidth}" height="${PANEL}" fill="none" stroke="#999"/>`,
  ]
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4
    parts.push(
      `<text x="${LEFT - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${v >= 100 ? v.toFixed(0) : v.toFixed(1)}</text>`,
      `<line x1="${LEFT}" x2="${LEFT + plotWidth}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`
    )
  }
  series.forEach((s, i) => {
    const points = times
      .map((t, j) =>
        s.values[j] === undefined ? undefined : `${x(t).toFixed(1)},${y(s.values[j]).toFixed(1)}`
      )
      .filter((p) => p !== undefined)
    parts.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${points.join(' ')}"/>`,
      `<text x="${LEFT + plotWidth + 8}" y="${top + 14 + i * 16}" fill="${s.color}" font-size="12">${escape(s.label)}</text>`
    )
  })
  guides.forEach((g, i) => {
    const [x1, y1, x2, y2] =
      g.y !== undefined ? [0, g.y, duration, g.y] : [...(g.from ?? [0, 0]), ...(g.to ?? [0, 0])]
    parts.push(
      `<line x1="${x(x1)}" y1="${y(y1)}" x2="${x(x2)}" y2="${y(y2)}" stroke="${g.color}" stroke-dasharray="6 4" stroke-width="1.5"/>`,
      `<text x="${LEFT + plotWidth + 8}" y="${top + 14 + (series.length + i) * 16}" fill="${g.color}" font-size="12">- - ${escape(g.label)}</text>`
    )
  })
  return parts.join('\n')
}

export interface ChartInput {
  title: string
  samples: Sample[]
  warmupSeconds: number
  checks: Check[]
  /** The fitted RSS line after warm-up: [t, MB] at both ends. */
  rssFit: [[number, number], [number, number]] | undefined
  fdBaseline: number | undefined
  p99Bound: number | undefined
}

export function renderChart(input: ChartInput): string {
  const { samples, warmupSeconds: warm } = input
  const times = samples.map((s) => s.t)
  const duration = times.at(-1) ?? 1
  const col = (pick: (s: Sample) => number | undefined) => samples.map(pick)
  const panels = [
    panel(
      0,
      'Memory: RSS (MB)',
      times,
      duration,
      warm,
      [{ label: 'RSS', color: '#1f77b4', values: col((s) => s.rssMB) }],
      input.rssFit
        ? [{ label: 'fitted slope', color: '#d62728', from: input.rssFit[0], to: input.rssFit[1] }]
        : []
    ),
    panel(
      1,
      'Descriptors, handles, tunnels and HTTP/2 sessions',
      times,
      duration,
      warm,
      [
        { label: 'fds', color: '#1f77b4', values: col((s) => s.fds) },
        { label: 'active handles', color: '#ff7f0e', values: col((s) => s.handles) },
        { label: 'open tunnels', color: '#8c564b', values: col((s) => s.tunnels) },
        { label: 'h2 sessions', color: '#2ca02c', values: col((s) => s.h2Sessions) },
      ],
      input.fdBaseline === undefined
        ? []
        : [{ label: 'fd baseline', color: '#d62728', y: input.fdBaseline }]
    ),
    panel(
      2,
      'Latency (ms)',
      times,
      duration,
      warm,
      [
        { label: 'request p99 (server)', color: '#1f77b4', values: col((s) => s.p99Ms) },
        { label: 'request p99 (client)', color: '#9467bd', values: col((s) => s.clientP99Ms) },
        { label: 'event-loop p99', color: '#ff7f0e', values: col((s) => s.loopDelayP99Ms) },
      ],
      input.p99Bound === undefined
        ? []
        : [{ label: '2x first window', color: '#d62728', y: input.p99Bound }]
    ),
    panel(
      3,
      'Load: requests answered per second',
      times,
      duration,
      warm,
      [{ label: 'requests/s', color: '#1f77b4', values: col((s) => s.requestsPerSecond) }],
      []
    ),
  ]
  const axisTop = TOP + 4 * (PANEL + 30) - 22
  const ticks: string[] = []
  const step = duration > 600 ? 300 : duration > 120 ? 60 : 15
  for (let t = 0; t <= duration; t += step) {
    const px = LEFT + (t / Math.max(duration, 1)) * (WIDTH - LEFT - RIGHT)
    ticks.push(
      `<text x="${px}" y="${axisTop}" text-anchor="middle" font-size="11">${t >= 60 ? `${(t / 60).toFixed(t % 60 ? 1 : 0)} min` : `${t} s`}</text>`
    )
  }
  const checks = input.checks.map(
    (c, i) =>
      `<text x="${LEFT}" y="${axisTop + 26 + i * 18}" fill="${c.skipped ? '#777' : c.pass ? '#2ca02c' : '#d62728'}">${c.skipped ? '–' : c.pass ? '✔' : '✘'} ${escape(c.name)}: ${escape(c.detail)}</text>`
  )
  const height = axisTop + 36 + input.checks.length * 18
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${LEFT}" y="24" font-size="16" font-weight="bold">${escape(input.title)}</text>`,
    ...panels,
    ...ticks,
    ...checks,
    '</svg>',
    '',
  ].join('\n')
}

/**
 * Time in Memento terms (RFC 7089): capture times from WARC dates and CDXJ timestamps,
 * `Accept-Datetime` in, `Memento-Datetime` out, and the capture closest to a wanted time.
 * @see https://www.rfc-editor.org/rfc/rfc7089
 * @module
 */

/** Seconds since the epoch of a WARC-Date (ISO 8601), or 0 when it has none or a bad one. */
export function captureTime(warcDate: string | null | undefined): number {
  const ms = warcDate ? Date.parse(warcDate) : NaN
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000)
}

/** Seconds since the epoch of a CDX timestamp (`YYYYMMDDhhmmss`, shorter ones padded). */
export function timestampTime(timestamp: string): number {
  const digits = /^\d{4,14}$/.test(timestamp) ? timestamp.padEnd(14, '0') : ''
  if (!digits) {
    return 0
  }
  const [y, mo, d, h, mi, s] = [0, 4, 6, 8, 10, 12].map((at, i) =>
    Number(digits.slice(at, at + (i === 0 ? 4 : 2)))
  ) as [number, number, number, number, number, number]
  // Not Date.UTC, which reads the years 0 to 99 as 1900 to 1999.
  const date = new Date(0)
  date.setUTCFullYear(y, Math.max(0, mo - 1), Math.max(1, d))
  return Math.floor(date.setUTCHours(h, mi, s) / 1000)
}

/** The IMF-fixdate of `seconds`, as `Memento-Datetime` and `Last-Modified` carry it. */
export function httpDate(seconds: number): string {
  return new Date(seconds * 1000).toUTCString()
}

/**
 * The time an `Accept-Datetime` header asks for: `undefined` when absent, `null` when it is
 * not an HTTP date (RFC 7089 section 4.1.1 answers that with 400).
 */
export function acceptDatetime(header: string | null): number | undefined | null {
  if (header === null || header.trim() === '') {
    return undefined
  }
  const ms = Date.parse(header)
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000)
}

/**
 * The capture closest to `wanted` (the later one on a tie; of two at the same time, the one
 * listed later), or the latest without it.
 */
export function closest<T extends { time: number }>(
  captures: readonly T[],
  wanted?: number
): T | undefined {
  let best: T | undefined
  for (const capture of captures) {
    best = !best || preferred(capture, best, wanted) <= 0 ? capture : best
  }
  return best
}

/**
 * The captures from the closest to `wanted` (or the latest) to the farthest; of two at the same
 * time, the one listed later comes first, as {@link closest} picks it.
 */
export function byCloseness<T extends { time: number }>(
  captures: readonly T[],
  wanted?: number
): T[] {
  return [...captures].reverse().sort((a, b) => preferred(a, b, wanted))
}

/** Negative when `a` is a better answer for `wanted` than `b`: closer, or later on a tie. */
function preferred(a: { time: number }, b: { time: number }, wanted: number | undefined): number {
  const distance = wanted === undefined ? 0 : Math.abs(a.time - wanted) - Math.abs(b.time - wanted)
  return distance || b.time - a.time
}

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

const TIMESTAMP =
  /^\d{4}(?:(?:0[1-9]|1[0-2])(?:(?:0[1-9]|[12]\d|3[01])(?:(?:[01]\d|2[0-3])(?:[0-5]\d){0,2})?)?)?$/

/**
 * Seconds since the epoch of a replay's default time: a timestamp as pywb and CDX indexes write
 * them, in UTC, from the year alone (`2020`, its start) to the second (`20200131235959`).
 * `undefined` when `timestamp` is not one (a month 13, the 31st of April, an odd digit).
 */
export function replayTimestamp(timestamp: string): number | undefined {
  if (!TIMESTAMP.test(timestamp)) {
    return undefined
  }
  const time = timestampTime(timestamp)
  const day = timestamp.slice(6, 8)
  // timestampTime moves the 31st of April to the 1st of May: such a date is none.
  return day && new Date(time * 1000).getUTCDate() !== Number(day) ? undefined : time
}

/** The time of a `timestamp` option, if given; throws a `RangeError` when it is no timestamp. */
export function timestampOption(timestamp: string | undefined): number | undefined {
  const time = timestamp === undefined ? undefined : replayTimestamp(timestamp)
  if (timestamp !== undefined && time === undefined) {
    throw new RangeError(
      `timestamp ${JSON.stringify(timestamp)} is not one: YYYY to YYYYMMDDhhmmss, in UTC`
    )
  }
  return time
}

/** The IMF-fixdate of `seconds`, as `Memento-Datetime` and `Last-Modified` carry it. */
export function httpDate(seconds: number): string {
  return new Date(seconds * 1000).toUTCString()
}

/**
 * The headers of a memento found by datetime negotiation at its own URL (RFC 7089 section 4.1.2,
 * a URI-R that is its own TimeGate, as every URL through a replay proxy is): its time, the URL as
 * `original timegate`, and `Vary: accept-datetime`, added to the captured `Vary`, since another
 * `Accept-Datetime` may get another capture and no cache should answer it with this one.
 */
export function mementoHeaders(headers: Headers, time: number, original: string): void {
  headers.set('Memento-Datetime', httpDate(time))
  headers.append('Link', `<${original}>; rel="original timegate"`)
  if (headers.get('vary')?.trim() !== '*') {
    headers.append('Vary', 'accept-datetime')
  }
}

/**
 * The time an `Accept-Datetime` header asks for: `undefined` when absent, `null` when it is
 * not an HTTP date (RFC 7089 section 4.1.1 answers that with 400). An HTTP date is one of the
 * three forms of RFC 9110 section 5.6.7, always in GMT: `Date.parse` alone would also take `1`
 * (the year 2001) or a date without a zone (read in the server's own time zone).
 */
export function acceptDatetime(header: string | null): number | undefined | null {
  if (header === null || header.trim() === '') {
    return undefined
  }
  const text = header.trim().toLowerCase()
  const fixdate = IMF_FIXDATE.exec(text) ?? RFC_850.exec(text)
  const asctime = fixdate ? null : ASCTIME.exec(text)
  const parts = fixdate
    ? fixdate.slice(1)
    : asctime && [asctime[2], asctime[1], asctime[6], asctime[3], asctime[4], asctime[5]]
  if (!parts) {
    return null
  }
  const [day, month, year, hours, minutes, seconds] = parts
  return utcSeconds(
    fullYear(year ?? ''),
    MONTHS.indexOf(month ?? ''),
    Number(day),
    Number(hours),
    Number(minutes),
    Number(seconds)
  )
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
/** `Sun, 06 Nov 1994 08:49:37 GMT`: day, month, year, hours, minutes, seconds. */
const IMF_FIXDATE = /^[a-z]{3}, (\d{2}) ([a-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) gmt$/
/** `Sunday, 06-Nov-94 08:49:37 GMT`, the obsolete RFC 850 form. */
const RFC_850 = /^[a-z]{6,9}, (\d{2})-([a-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) gmt$/
/** `Sun Nov  6 08:49:37 1994`, C's asctime: month, day, hours, minutes, seconds, year. */
const ASCTIME = /^[a-z]{3} ([a-z]{3}) ( \d|\d{2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/

/** A two-digit year is the latest one not more than 50 years ahead (RFC 9110 section 5.6.7). */
function fullYear(year: string): number {
  if (year.length !== 2) {
    return Number(year)
  }
  const now = new Date().getUTCFullYear()
  const guess = now - (now % 100) + Number(year)
  return guess > now + 50 ? guess - 100 : guess
}

/** The seconds of a UTC calendar time, or `null` for one no calendar has (31 February). */
function utcSeconds(
  year: number,
  month: number,
  day: number,
  hours: number,
  minutes: number,
  seconds: number
): number | null {
  if (month < 0 || hours > 23 || minutes > 59 || seconds > 60) {
    return null
  }
  const date = new Date(0)
  date.setUTCFullYear(year, month, day)
  if (date.getUTCMonth() !== month || date.getUTCDate() !== day) {
    return null
  }
  return Math.floor(date.setUTCHours(hours, minutes, seconds) / 1000)
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

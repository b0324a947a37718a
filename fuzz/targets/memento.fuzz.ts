/**
 * Time in replay (timestampTime, captureTime, acceptDatetime, httpDate, closest): a CDXJ
 * timestamp names the calendar time it spells, an `Accept-Datetime` of an HTTP date is read
 * exactly and what httpDate writes reads back, and `closest` picks the capture nearest in time.
 * Input: one string; its bytes also give the times of captures for `closest`.
 */
import { check } from './_check'
import { acceptDatetime, captureTime, closest, httpDate, timestampTime } from './_imports'

/** The latest second an HTTP date can name with a four-digit year. */
const YEAR_9999 = 253_402_300_799

export function fuzz(data: Buffer): void {
  const text = data.toString('latin1')
  checkTimestamp(text)
  const warcTime = captureTime(text)
  check(Number.isSafeInteger(warcTime), 'a WARC-Date is whole seconds', { text, warcTime })
  const wanted = acceptDatetime(text)
  check(
    (wanted === undefined) === (text.trim() === ''),
    'only an absent or blank Accept-Datetime asks for no time',
    { text, wanted }
  )
  check(
    wanted === undefined || wanted === null || Number.isSafeInteger(wanted),
    'an Accept-Datetime is whole seconds',
    { text, wanted }
  )
  // Any second from 1970 to 9999, written by httpDate, reads back as itself.
  const seconds = data.length >= 5 ? data.readUIntBE(0, 5) % (YEAR_9999 + 1) : data.length
  const written = httpDate(seconds)
  check(
    acceptDatetime(written) === seconds &&
      /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(written),
    'an IMF-fixdate written is read back',
    { seconds, written }
  )
  checkClosest(data, wanted ?? undefined)
}

function checkTimestamp(timestamp: string): void {
  const time = timestampTime(timestamp)
  const details = { timestamp, time }
  check(Number.isSafeInteger(time), 'a timestamp is whole seconds', details)
  if (!/^\d{4,14}$/.test(timestamp)) {
    check(time === 0, 'what is not a timestamp is no time', details)
    return
  }
  const padded = timestamp.padEnd(14, '0')
  const [year, month, day, hour, minute, second] = [0, 4, 6, 8, 10, 12].map((at, i) =>
    Number(padded.slice(at, at + (i === 0 ? 4 : 2)))
  ) as [number, number, number, number, number, number]
  const days = new Date(Date.UTC(2000, month, 0)).getUTCDate()
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  const monthDays = month === 2 && !leap ? 28 : days
  if (month > 12 || day > monthDays || hour > 23 || minute > 59 || second > 59) {
    return
  }
  // A short timestamp (`2020`, `202005`) names the start of its year or month.
  const spelled = [year, Math.max(month, 1), Math.max(day, 1), hour, minute, second]
    .map((n, i) => String(n).padStart(i === 0 ? 4 : 2, '0'))
    .join('')
  const date = new Date(time * 1000)
  const read = [
    date.getUTCFullYear(),
    date.getUTCMonth() + 1,
    date.getUTCDate(),
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
  ]
    .map((n, i) => String(n).padStart(i === 0 ? 4 : 2, '0'))
    .join('')
  check(read === spelled, 'a timestamp is the time it spells', { ...details, spelled, read })
}

function checkClosest(data: Buffer, wanted: number | undefined): void {
  const captures = [...data.subarray(0, 16)].map((byte, index) => ({ time: byte * 1000, index }))
  const best = closest(captures, wanted)
  const details = { captures, wanted, best }
  if (captures.length === 0) {
    check(best === undefined, 'no captures, no closest', details)
    return
  }
  check(
    best !== undefined && captures.includes(best),
    'the closest is one of the captures',
    details
  )
  const distance = (time: number) => (wanted === undefined ? -time : Math.abs(time - wanted))
  for (const capture of captures) {
    const [d, bestD] = [distance(capture.time), distance(best?.time ?? 0)]
    check(
      d > bestD || (d === bestD && capture.time <= (best?.time ?? 0)),
      'no capture is nearer, nor as near and later',
      { ...details, capture }
    )
  }
}

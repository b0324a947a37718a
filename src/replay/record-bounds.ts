/**
 * Where a record read by warcio really ends, when its Content-Length may lie: a plain record's
 * that takes in the next record, bytes between records, a gzip member's own length.
 * @module
 */
import type { AsyncIterReader } from 'warcio'
import type { ByteSource } from './byte-source'
import { findNext } from './byte-source'

/** The compressed length of the gzip member `inflator` (warcio's) has inflated. */
export function memberEnd(inflator: NonNullable<AsyncIterReader['inflator']>): number {
  // pako's stream counts the input bytes it took: a member's end is where it stopped.
  return (inflator as unknown as { strm: { total_in: number } }).strm.total_in
}

const RECORD_START = new TextEncoder().encode('\r\n\r\nWARC/1.')

/**
 * Whether the plain record at `offset`, `length` bytes long by its Content-Length, takes in the
 * start of the record after it. Looked for only when line ends and a record do not follow it.
 */
export async function runsIntoNext(
  source: ByteSource,
  offset: number,
  length: number
): Promise<boolean> {
  const end = offset + length
  for await (const chunk of source.read(end, end + 64)) {
    const after = Buffer.from(chunk)
    let at = 0
    while (at < after.length && (after[at] === 13 || after[at] === 10)) {
      at++
    }
    const next = after.subarray(at, at + 5).toString('latin1')
    if (at === after.length || 'WARC/'.startsWith(next) || next.startsWith('WARC/')) {
      return false
    }
    return (await findNext(source, RECORD_START, offset, end)) !== undefined
  }
  return false
}

/**
 * warcio steps over bytes between records by itself; say so when they are more than line ends.
 */
export async function reportGap(
  source: ByteSource,
  from: number,
  to: number,
  warn: (line: string) => void
): Promise<void> {
  for await (const chunk of source.read(from, to)) {
    if (chunk.some((byte) => byte !== 13 && byte !== 10)) {
      warn(
        `${source.name}: offset ${from}: ${to - from} bytes that are no WARC record; skipped to the next record at offset ${to}`
      )
      return
    }
  }
}

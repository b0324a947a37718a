/**
 * Index a WARC (plain, or gzip per record) with warcio's parser: every readable response,
 * revisit and resource record goes into the collection's index. What cannot be read (a
 * truncated record, a corrupt gzip member, bytes that are no record) gets one warning naming the
 * file and the offset, and indexing goes on from the next record found after it.
 * @module
 */
import { AsyncIterReader, WARCParser } from 'warcio'
import type { WARCRecord } from 'warcio'
import type { BodyKey } from './body-key'
import type { ByteSource } from './byte-source'
import { findNext } from './byte-source'
import type { CaptureEntry, CaptureIndexBuilder } from './capture-index'
import { MethodClass, methodClass, RecordKind } from './capture-index'
import { captureTime } from './memento'
import type { PageList } from './pages'
import { isPage } from './pages'
import { memberEnd, reportGap, runsIntoNext } from './record-bounds'
import { hasLength } from './record-reader'
import { consume } from './request-record'
import { hearWarcio } from './warcio-console'

const GZIP_MAGIC = Uint8Array.of(0x1f, 0x8b, 0x08)
const WARC_MAGIC = new TextEncoder().encode('WARC/1.')

/** The kind of WARC a source holds, from its first bytes; `undefined` when it is none. */
export async function warcFormat(source: ByteSource): Promise<'gzip' | 'plain' | undefined> {
  for await (const head of source.read(0, 8)) {
    const bytes = Buffer.from(head)
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
      return 'gzip'
    }
    return bytes.subarray(0, 7).equals(WARC_MAGIC) ? 'plain' : undefined
  }
  return undefined
}

/** What indexing one source needs. */
export interface IndexTarget {
  sourceId: number
  builder: CaptureIndexBuilder
  /** Where HTML captures are listed, unless the collection lists its pages itself. */
  pages: PageList | undefined
  warn: (line: string) => void
}

/** Index every readable record of `source`; resolves with the number of captures added. */
export async function indexWarc(source: ByteSource, target: IndexTarget): Promise<number> {
  const format = await warcFormat(source)
  if (!format) {
    target.warn(`${source.name}: not a WARC file (it does not start with WARC/1. or a gzip header)`)
    return 0
  }
  const magic = format === 'gzip' ? GZIP_MAGIC : WARC_MAGIC
  let added = 0
  let start = 0
  while (start < source.size) {
    const run = await indexRun(source, format, start, target)
    added += run.added
    // A plain WARC ends with the CRLF CRLF after its last record.
    if (run.end >= source.size - (format === 'plain' ? 4 : 0)) {
      break
    }
    const next = run.resume ?? (await findNext(source, magic, run.end + 1))
    const reason = run.error ?? 'truncated or corrupt record'
    target.warn(
      next === undefined
        ? `${source.name}: offset ${run.end}: ${reason}; skipped the last ${source.size - run.end} bytes`
        : `${source.name}: offset ${run.end}: ${reason}; skipped to the next record at offset ${next}`
    )
    if (next === undefined) {
      break
    }
    start = next
  }
  return added
}

interface Run {
  added: number
  /** Where the last readable record ended. */
  end: number
  error?: string
  /** Where the next record starts, when known (else it is looked for after `end`). */
  resume?: number
}

/**
 * Parse records from `start` until the data ends or stops being a WARC. What warcio prints about
 * a record (its content goes on after its `Content-Length`, in a gzip member) is a warning.
 */
function indexRun(
  source: ByteSource,
  format: 'gzip' | 'plain',
  start: number,
  target: IndexTarget
): Promise<Run> {
  const last = { offset: start, what: '' }
  const heard = (message: string) => {
    // In a plain WARC, the bytes after the record are reported as no record (reportGap).
    if (format === 'gzip' && message.startsWith('Content-Length Too Small')) {
      target.warn(
        `${source.name}: offset ${last.offset}: its Content-Length does not end where its gzip member does (${last.what})`
      )
    }
  }
  return hearWarcio(heard, () => readRun(source, format, start, target, last))
}

async function readRun(
  source: ByteSource,
  format: 'gzip' | 'plain',
  start: number,
  target: IndexTarget,
  last: { offset: number; what: string }
): Promise<Run> {
  const reader = new AsyncIterReader(
    source.read(start, source.size),
    format === 'gzip' ? 'gzip' : null
  )
  const parser = new WARCParser(reader)
  const run: Run = { added: 0, end: start }
  let pending: CaptureEntry | undefined
  let pendingPage = false
  /** Whether the pending response took its method from a request record written before it. */
  let pendingPaired = false
  let lastRequest: { url: string; method: string; body: BodyKey | undefined } | undefined
  const flush = () => {
    if (pending) {
      if (pendingPage && pending.method === MethodClass.get) {
        target.pages?.add({ url: pending.url, time: pending.time })
      }
      target.builder.add(pending)
      run.added++
      pending = undefined
    }
  }
  try {
    for await (const record of parser) {
      let offset = start + parser.offset
      if (run.end > start && offset > run.end) {
        await reportGap(source, run.end, offset, target.warn)
      }
      // warcio reads bytes before a record into its first line ('xxxWARC/1.1'): skip them.
      const junk = record.warcHeaders.statusline.indexOf('WARC/')
      if (junk > 0 && format === 'plain') {
        target.warn(
          `${source.name}: offset ${offset}: ${junk} bytes that are no WARC record; skipped to the next record at offset ${offset + junk}`
        )
        offset += junk
      }
      if (!hasLength(record)) {
        // warcio reads a record of no length to the end of the file, taking every record after
        // it as its content: start again at the next record instead.
        // A file cut inside a record's headers ends there too (warcio then reads no length as 0).
        flush()
        run.end = offset
        run.error =
          offset + parser.recordLength >= source.size
            ? 'truncated record (the file ends inside its WARC headers)'
            : `no valid Content-Length (${record.warcType} ${record.warcTargetURI ?? ''})`
        return run
      }
      // A request of another method than GET keeps its body (up to the limit) for its key.
      const method = record.warcType === 'request' ? (record.httpHeaders?.method ?? 'GET') : 'GET'
      const member = reader.inflator
      const { whole, body } = await consume(record, methodClass(method) === MethodClass.other)
      if (whole && member && reader.inflator !== member) {
        // Its Content-Length took in the start of the next gzip member: skip it alone, and
        // go on at that member, which its parse would otherwise have lost.
        flush()
        run.end = offset
        run.resume = offset + memberEnd(member)
        run.error = `its Content-Length runs past its gzip member (${record.warcType} ${record.warcTargetURI ?? ''})`
        return run
      }
      if (!whole) {
        flush()
        run.end = offset
        run.error = `truncated record (${record.warcType} ${record.warcTargetURI ?? ''})`
        return run
      }
      // Known once the content is read; a plain record's ends before its closing CRLF CRLF.
      const length = parser.recordLength - (offset - start - parser.offset)
      const url = record.warcTargetURI ?? ''
      last.offset = offset
      last.what = `${record.warcType} ${url}`
      if (format === 'plain' && (await runsIntoNext(source, offset, length))) {
        // The record's Content-Length takes in the start of the next record: its end is
        // unknown, so it is skipped, and the next one looked for after its start.
        flush()
        run.end = offset
        run.error = `its Content-Length runs into the next record (${last.what})`
        return run
      }
      run.end = offset + length + (format === 'plain' ? 4 : 0)
      if (record.warcType === 'request') {
        // Crawlers write the request after its response (warcio, pywb, Browsertrix) or before
        // (wget): a response paired with the request before it leaves this one to the next.
        if (pending?.url === url && !pendingPaired) {
          pending.method = methodClass(method)
          pending.body = body
          flush()
        } else {
          lastRequest = { url, method, body }
        }
        continue
      }
      flush()
      const entry = toEntry(record, target.sourceId, offset, length)
      if (!entry) {
        continue
      }
      pendingPaired = lastRequest?.url === url
      if (lastRequest?.url === url) {
        entry.method = methodClass(lastRequest.method)
        entry.body = lastRequest.body
        lastRequest = undefined
      }
      pendingPage = target.pages !== undefined && isPageRecord(record, entry)
      pending = entry
    }
  } catch (error) {
    run.error = `unreadable record (${error instanceof Error ? error.message : String(error)})`
  }
  flush()
  return run
}

function toEntry(
  record: WARCRecord,
  sourceId: number,
  offset: number,
  length: number
): CaptureEntry | undefined {
  const kind =
    record.warcType === 'response'
      ? RecordKind.response
      : record.warcType === 'revisit'
        ? RecordKind.revisit
        : record.warcType === 'resource'
          ? RecordKind.resource
          : undefined
  const url = record.warcTargetURI
  if (kind === undefined || !url) {
    return undefined
  }
  return {
    url,
    source: sourceId,
    offset,
    length,
    time: captureTime(record.warcDate),
    kind,
    method: methodClass('GET'),
  }
}

function isPageRecord(record: WARCRecord, entry: CaptureEntry): boolean {
  if (entry.kind === RecordKind.revisit) {
    return false
  }
  const mime =
    entry.kind === RecordKind.resource
      ? record.warcContentType
      : record.httpHeaders?.headers.get('content-type')
  const status =
    entry.kind === RecordKind.resource ? undefined : Number(record.httpHeaders?.statusCode)
  return isPage(mime, status)
}

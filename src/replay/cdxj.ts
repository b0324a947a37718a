/**
 * Read a CDXJ index (`urlkey timestamp {json}` per line, as warcio and pywb write it and WACZ
 * carries it) into a collection's index, and `pages.jsonl` into its page list.
 * @see https://specs.webrecorder.net/cdxj/0.1.0/
 * @module
 */
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { cdxjBodyKey, methodBodyKey } from './body-key'
import type { CaptureIndexBuilder } from './capture-index'
import { MethodClass, methodClass, RecordKind } from './capture-index'
import { timestampTime } from './memento'
import { isPage } from './pages'
import type { PageList } from './pages'

/** Where the lines of an index go. */
export interface CdxjTarget {
  builder: Pick<CaptureIndexBuilder, 'add'>
  /** The source id of a WARC named in the `filename` field, or `undefined` for an unknown one. */
  sourceOf: (filename: string) => number | undefined
  /** HTML captures are listed here, unless the archive lists its pages itself. */
  pages: PageList | undefined
  warn: (line: string) => void
}

interface CdxjFields {
  url?: string
  offset?: string | number
  length?: string | number
  filename?: string
  status?: string | number
  mime?: string
  method?: string
  requestBody?: string
}

/** Add every usable line of `lines` (named `name` in warnings); resolves with the count. */
export async function readCdxj(lines: Readable, name: string, target: CdxjTarget): Promise<number> {
  let added = 0
  let bad = 0
  let lineNumber = 0
  const unknown = new Set<string>()
  for await (const line of createInterface({ input: lines, crlfDelay: Infinity })) {
    lineNumber++
    if (line.trim() === '' || line.startsWith('!')) {
      continue
    }
    const fields = parseLine(line)
    const offset = Number(fields?.offset)
    const length = Number(fields?.length)
    const source =
      typeof fields?.filename === 'string' ? target.sourceOf(fields.filename) : undefined
    if (
      typeof fields?.url !== 'string' ||
      fields.url === '' ||
      !(Number.isSafeInteger(offset) && offset >= 0) ||
      !(Number.isSafeInteger(length) && length > 0)
    ) {
      if (bad++ === 0) {
        target.warn(`${name}: line ${lineNumber}: not a CDXJ line, skipped (and any more like it)`)
      }
      continue
    }
    if (source === undefined) {
      if (!unknown.has(fields.filename ?? '')) {
        unknown.add(fields.filename ?? '')
        target.warn(
          `${name}: line ${lineNumber}: no WARC named ${JSON.stringify(fields.filename)} in the archive; its captures are skipped`
        )
      }
      continue
    }
    const time = timestampTime(line.split(' ', 2)[1] ?? '')
    const kind =
      fields.mime === 'warc/revisit'
        ? RecordKind.revisit
        : fields.status === undefined
          ? RecordKind.resource
          : RecordKind.response
    const methodName = typeof fields.method === 'string' ? fields.method : 'GET'
    const method = methodClass(methodName)
    // A line that does not give the body leaves it to the request record (see wacz-index.ts).
    const key =
      method === MethodClass.other && typeof fields.requestBody === 'string' && fields.requestBody
        ? cdxjBodyKey(fields.requestBody)
        : undefined
    const body = key && methodBodyKey(key, methodName)
    target.builder.add({ url: fields.url, source, offset, length, time, kind, method, body })
    added++
    const status = fields.status === undefined ? undefined : Number(fields.status)
    if (
      target.pages &&
      kind !== RecordKind.revisit &&
      method === 0 &&
      isPage(fields.mime, status)
    ) {
      target.pages.add({ url: fields.url, time })
    }
  }
  return added
}

function parseLine(line: string): CdxjFields | undefined {
  const brace = line.indexOf('{')
  if (brace === -1) {
    return undefined
  }
  try {
    const value: unknown = JSON.parse(line.slice(brace))
    return typeof value === 'object' && value !== null ? value : undefined
  } catch {
    return undefined
  }
}

/** Read a WACZ `pages.jsonl` (a header line, then one `{url, ts, title}` per line). */
export async function readPages(lines: Readable, pages: PageList): Promise<void> {
  for await (const line of createInterface({ input: lines, crlfDelay: Infinity })) {
    const page = parseLine(line) as { url?: unknown; ts?: unknown; title?: unknown } | undefined
    if (typeof page?.url !== 'string') {
      continue
    }
    const ms = typeof page.ts === 'string' ? Date.parse(page.ts) : NaN
    pages.add({
      url: page.url,
      time: Number.isNaN(ms) ? 0 : Math.floor(ms / 1000),
      title: typeof page.title === 'string' ? page.title : undefined,
    })
  }
}

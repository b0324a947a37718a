/**
 * Archives for the replay tests, written with warcio's writer (WARC) and yazl (WACZ): nothing is
 * downloaded.
 */
import { CDXIndexer, WARCRecord, WARCSerializer } from 'warcio'
import type { WARCType } from 'warcio'
import { ZipFile } from 'yazl'
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'

const encoder = new TextEncoder()

/** One record to write. */
export interface RecordSpec {
  url: string
  /** ISO date; default 2020-01-01. */
  date?: string
  type?: WARCType
  /** `HTTP/1.1 200 OK` by default. */
  statusline?: string
  headers?: Record<string, string> | [string, string][]
  body?: string | Uint8Array
  /** WARC headers to add (a revisit's WARC-Refers-To-*, a payload digest). */
  warcHeaders?: Record<string, string>
  /** Also write the request record (with this method) after the response, as warcio does. */
  method?: string
  /** Write that request record before the response instead, as wget does. */
  requestFirst?: boolean
  /** The request record's body, sent with `requestType` as its Content-Type. */
  requestBody?: string | Uint8Array
  /** @default 'application/x-www-form-urlencoded' when there is a request body */
  requestType?: string
}

/** The bytes of one record. */
export async function recordBytes(spec: RecordSpec, gzip: boolean): Promise<Uint8Array> {
  const body =
    typeof spec.body === 'string' ? encoder.encode(spec.body) : (spec.body ?? new Uint8Array())
  const record = WARCRecord.create(
    {
      url: spec.url,
      date: spec.date ?? '2020-01-01T00:00:00Z',
      type: spec.type ?? 'response',
      statusline: spec.statusline ?? 'HTTP/1.1 200 OK',
      httpHeaders: spec.headers ?? { 'Content-Type': 'text/html' },
      warcHeaders: spec.warcHeaders ?? {},
      warcVersion: 'WARC/1.1',
    },
    [body]
  )
  return WARCSerializer.serialize(record, { gzip })
}

/** A plain record whose WARC Content-Length is changed by `delta`: one that lies. */
export function lyingLength(record: Uint8Array, delta: number): Buffer {
  return Buffer.from(
    Buffer.from(record)
      .toString('latin1')
      .replace(/Content-Length: (\d+)/, (_, length: string) => {
        return `Content-Length: ${Number(length) + delta}`
      }),
    'latin1'
  )
}

/** The bytes of a WARC of `specs` (and a request record for each spec with a method). */
export async function warcBytes(specs: RecordSpec[], gzip = false): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for (const spec of specs) {
    parts.push(await recordBytes(spec, gzip))
    if (spec.method) {
      parts.splice(
        spec.requestFirst ? parts.length - 1 : parts.length,
        0,
        await recordBytes(
          {
            url: spec.url,
            date: spec.date,
            type: 'request',
            statusline: `${spec.method} ${new URL(spec.url).pathname} HTTP/1.1`,
            headers: {
              Host: new URL(spec.url).host,
              ...(spec.requestBody !== undefined && {
                'Content-Type': spec.requestType ?? 'application/x-www-form-urlencoded',
              }),
            },
            body: spec.requestBody,
          },
          gzip
        )
      )
    }
  }
  return Buffer.concat(parts)
}

/** A temporary folder, removed by `cleanup`. */
export async function tempFolder(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'wsgiprox-replay-'))
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

/** Write a WARC file of `specs`. */
export async function writeWarc(path: string, specs: RecordSpec[], gzip = false): Promise<string> {
  await writeFile(path, await warcBytes(specs, gzip))
  return path
}

/** What goes in a WACZ besides its WARC. */
export interface WaczOptions {
  /**
   * Write indexes/index.cdx (made with warcio's CDX indexer), or one that does not describe the
   * WARC: a corrupt index.cdx.gz, a legacy space-separated CDX, a CDXJ naming another WARC, or
   * one whose offsets are 10 bytes off; or a ZipNum index as Browsertrix writes it for large
   * crawls: index.cdx.gz, gzip members of a few lines each, and index.idx, the first key and
   * place of each member. @default true
   */
  index?: boolean | 'corrupt' | 'legacy-cdx' | 'other-warc' | 'wrong-offsets' | 'zipnum'
  pages?: { url: string; ts: string; title?: string }[]
  /** Deflate the WARC inside the zip (the spec says store it). @default false */
  compressWarc?: boolean
}

/** Write a WACZ holding one WARC (archive/data.warc.gz) of `specs`. */
export async function writeWacz(
  path: string,
  specs: RecordSpec[],
  options: WaczOptions = {}
): Promise<string> {
  const warc = await warcBytes(specs, true)
  const zip = new ZipFile()
  zip.addBuffer(warc, 'archive/data.warc.gz', { compress: options.compressWarc ?? false })
  if (options.index === 'corrupt') {
    zip.addBuffer(
      Buffer.from('\x1f\x8b\x08\x00 this is no gzip stream', 'latin1'),
      'indexes/index.cdx.gz'
    )
  } else if (options.index === 'legacy-cdx') {
    const lines = specs.map(
      (spec) => `${spec.url} 20200101000000 ${spec.url} text/plain 200 - - - 0 0 data.warc.gz`
    )
    zip.addBuffer(
      Buffer.from([' CDX N b a m s k r M S V g', ...lines, ''].join('\n')),
      'indexes/index.cdx'
    )
  } else if (options.index === 'zipnum') {
    const lines = (await cdxj(warc, 'data.warc.gz')).split('\n').filter((line) => line !== '')
    const members: Buffer[] = []
    const idx = ['!meta 0 {"format": "cdxj-gzip-1.0"}']
    for (let at = 0, offset = 0; at < lines.length; at += 2) {
      const member = gzipSync(lines.slice(at, at + 2).join('\n') + '\n')
      const key = (lines[at] ?? '').split(' ').slice(0, 2).join(' ')
      idx.push(
        `${key} ${JSON.stringify({ offset, length: member.length, filename: 'index.cdx.gz' })}`
      )
      members.push(member)
      offset += member.length
    }
    zip.addBuffer(Buffer.concat(members), 'indexes/index.cdx.gz')
    zip.addBuffer(Buffer.from(idx.join('\n') + '\n'), 'indexes/index.idx')
  } else if (options.index ?? true) {
    let index = await cdxj(warc, options.index === 'other-warc' ? 'other.warc.gz' : 'data.warc.gz')
    if (options.index === 'wrong-offsets') {
      index = index.replace(
        /"offset":"(\d+)"/g,
        (_, offset: string) => `"offset":"${Number(offset) + 10}"`
      )
    }
    zip.addBuffer(Buffer.from(index), 'indexes/index.cdx')
  }
  if (options.pages) {
    const lines = [
      JSON.stringify({ format: 'json-pages-1.0', id: 'pages', title: 'All Pages' }),
      ...options.pages.map((page) => JSON.stringify(page)),
    ]
    zip.addBuffer(Buffer.from(lines.join('\n') + '\n'), 'pages/pages.jsonl')
  }
  zip.addBuffer(
    Buffer.from(JSON.stringify({ profile: 'data-package', wacz_version: '1.1.1' })),
    'datapackage.json'
  )
  zip.end()
  const out = createWriteStream(path)
  zip.outputStream.pipe(out)
  await once(out, 'close')
  return path
}

/** A CDXJ index of a WARC's bytes, by warcio's own indexer, sorted as CDXJ files are. */
export async function cdxj(warc: Uint8Array, filename: string): Promise<string> {
  const indexer = new CDXIndexer({ format: 'cdxj' })
  const lines: string[] = []
  for await (const cdx of indexer.iterIndex([
    {
      filename,
      reader: Readable.from([warc]),
    },
  ])) {
    lines.push(indexer.serializeCDXJ(cdx))
  }
  return lines.sort().join('')
}

/** Read a file back (for checks on what was written). */
export const bytesOf = (path: string) => readFile(path)

/** What a test file closes after each of its tests: `defer` adds to it; `folder` makes one. */
export function afterEachTest(): {
  defer: (close: () => Promise<void>) => void
  folder: () => Promise<string>
} {
  const closers: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) {
      await close()
    }
  })
  return {
    defer: (close) => closers.push(close),
    folder: async () => {
      const { dir, cleanup } = await tempFolder()
      closers.push(cleanup)
      return dir
    },
  }
}

/**
 * A WACZ (a zip of WARCs, a CDXJ index and a page list) read with yauzl: WARCs stored
 * uncompressed, as the WACZ spec asks, are read in place by position; a deflated one is
 * inflated once, on opening, into a temporary file read the same way. The archive's own index is used when it has one.
 * @see https://specs.webrecorder.net/wacz/1.1.1/
 * @module
 */
import yauzl from 'yauzl'
import type { Entry, ZipFile } from 'yauzl'
import { posix } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream'
import { createGunzip } from 'node:zlib'
import type { ByteSource, OpenFile } from './byte-source'
import { openFile, sliceSource } from './byte-source'
import { CaptureIndexBuilder } from './capture-index'
import { readPages } from './cdxj'
import type { CollectionParts } from './collection-parts'
import { inflateEntry } from './inflated-entry'
import { PageList } from './pages'
import { readWaczIndex } from './wacz-index'
import { indexWarc, warcFormat } from './warc-indexer'
import { listEntries } from './zip-entries'

/** Open the WACZ at `path` and index it. */
export async function openWacz(
  path: string,
  parts: CollectionParts,
  warn: (line: string) => void
): Promise<void> {
  let zip: ZipFile
  try {
    // Names are read by listEntries: yauzl would refuse the whole zip for one bad one.
    zip = await yauzl.openPromise(path, {
      lazyEntries: true,
      autoClose: false,
      decodeStrings: false,
    })
  } catch (error) {
    throw new Error(
      `${path}: not a readable WACZ (${error instanceof Error ? error.message : String(error)})`,
      { cause: error }
    )
  }
  const file = await openFile(path)
  parts.closers.push(
    () => file.close(),
    () => {
      zip.close()
      return Promise.resolve()
    }
  )
  const entries = await listEntries(zip, path, warn)
  const warcs = entries.filter((e) => /^archive\/.+\.warc(\.gz)?$/i.test(e.fileName))
  const sourceIds = new Map<string, number>()
  for (const entry of warcs) {
    const bytes = await entrySource(zip, file, entry, `${path}!${entry.fileName}`, parts, warn)
    const format = await warcFormat(bytes)
    if (!format) {
      warn(`${bytes.name}: not a WARC file; skipped`)
      continue
    }
    sourceIds.set(entry.fileName.slice('archive/'.length), parts.sources.length)
    parts.sources.push({ bytes, gzip: format === 'gzip' })
  }
  const pagesEntry = entries.find((e) => e.fileName === 'pages/pages.jsonl')
  if (pagesEntry) {
    await readPages(await entryStream(zip, pagesEntry), parts.pages)
  }
  const indexes = entries.filter((e) => /^indexes\/.+\.cdxj?(\.gz)?$/i.test(e.fileName))
  const problem =
    indexes.length === 0
      ? 'the WACZ has no CDXJ index (indexes/*.cdx, *.cdxj)'
      : await readWaczIndex(
          indexes.map((entry) => ({
            name: `${path}!${entry.fileName}`,
            open: () => entryStream(zip, entry),
          })),
          parts.sources,
          {
            builder: parts.builder,
            sourceOf: (name) => sourceNamed(sourceIds, name),
            pages: pagesEntry ? undefined : parts.pages,
            warn,
          }
        )
  if (problem === undefined) {
    return
  }
  warn(`${path}: ${problem}; indexing its WARCs instead`)
  parts.builder = new CaptureIndexBuilder()
  if (!pagesEntry) {
    parts.pages = new PageList()
  }
  const pages = pagesEntry ? undefined : parts.pages
  for (const [index, source] of parts.sources.entries()) {
    await indexWarc(source.bytes, { sourceId: index, builder: parts.builder, pages, warn })
  }
}

/**
 * A stored entry is a slice of the file; a deflated one is inflated once into a temporary file
 * (`inflateEntry`), from the file's own handle. Not through yauzl's read streams: they share one
 * queue of reads per zip, and one ended before its end while a read of it waits there throws in
 * that queue (an uncaught exception) and stalls every read after it.
 */
async function entrySource(
  zip: ZipFile,
  file: OpenFile,
  entry: Entry,
  name: string,
  { closers }: CollectionParts,
  warn: (line: string) => void
): Promise<ByteSource> {
  const { fileDataStart } = await zip.readLocalFileHeaderPromise(entry, { minimal: true })
  // Method 0: stored, the bytes are in the file as they are.
  if (entry.compressionMethod === 0) {
    return sliceSource(file, fileDataStart, entry.uncompressedSize, name)
  }
  if (entry.compressionMethod !== 8) {
    throw new Error(`${name}: compression method ${entry.compressionMethod} is not deflate`)
  }
  const inflated = await inflateEntry(
    sliceSource(file, fileDataStart, entry.compressedSize, name),
    name,
    warn
  )
  closers.push(() => inflated.close())
  return inflated
}

/**
 * The WARC a CDXJ line's `filename` names: its path under `archive/` (what py-wacz and
 * Browsertrix write is the bare name), or else the one WARC of that base name, when only one has it.
 */
function sourceNamed(ids: ReadonlyMap<string, number>, name: string): number | undefined {
  const under = name.replace(/^archive\//, '')
  const exact = ids.get(under)
  if (exact !== undefined) {
    return exact
  }
  const base = posix.basename(under)
  const same = [...ids].filter(([path]) => posix.basename(path) === base)
  return same.length === 1 ? same[0]?.[1] : undefined
}

/** The content of an entry, gunzipped when its name ends in `.gz`; a failure ends it with an error. */
async function entryStream(zip: ZipFile, entry: Entry): Promise<Readable> {
  const stream = await zip.openReadStreamPromise(entry)
  return entry.fileName.endsWith('.gz') ? pipeline(stream, createGunzip(), () => undefined) : stream
}

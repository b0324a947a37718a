/**
 * Archive indexes (readCdxj, readPages, PageList): whatever lines a WACZ's CDXJ index and
 * pages.jsonl hold, reading them ends without an error, and what reaches the capture index and
 * the page list is well formed: a URL string, a whole non-negative offset, a whole positive
 * length, a known WARC, and pages listed once each, in order.
 * Input: lines read both as a CDXJ index and as pages.jsonl.
 */
import { Readable } from 'node:stream'
import { check } from './_check'
import { PageList, readCdxj, readPages } from './_imports'
import type { CaptureEntry } from './_imports'

/** The one WARC the archive holds. */
const WARC = 'data.warc.gz'

export async function fuzz(data: Buffer): Promise<void> {
  const text = data.toString('utf8')
  const entries: CaptureEntry[] = []
  const warnings: string[] = []
  const pages = new PageList()
  const builder = { add: (entry: CaptureEntry) => entries.push(entry) }
  const added = await readCdxj(Readable.from([text]), 'index.cdxj', {
    builder,
    sourceOf: (filename) => (filename === WARC ? 7 : undefined),
    pages,
    warn: (line) => warnings.push(line),
  })
  const details = { text, entries, warnings }
  check(added === entries.length, 'the count is of the captures added', { ...details, added })
  for (const entry of entries) {
    const { url, offset, length, source, time } = entry
    check(typeof url === 'string' && url !== '', 'a capture has a URL string', {
      ...details,
      entry,
    })
    check(
      Number.isSafeInteger(offset) && offset >= 0 && Number.isSafeInteger(length) && length > 0,
      'a capture is a whole number of bytes at a whole, non-negative offset',
      { ...details, entry }
    )
    check(source === 7 && Number.isSafeInteger(time), 'a capture is in a known WARC', {
      ...details,
      entry,
    })
  }
  checkPages(pages, details)
  const listed = new PageList()
  await readPages(Readable.from([text]), listed)
  checkPages(listed, { text })
}

function checkPages(pages: PageList, details: Record<string, unknown>): void {
  const list = pages.list()
  check(list.length === pages.size, 'every page is listed', { ...details, list })
  for (const [i, page] of list.entries()) {
    check(
      typeof page.url === 'string' && Number.isSafeInteger(page.time),
      'a page is a URL string and a time',
      { ...details, page }
    )
    check(page.title === undefined || typeof page.title === 'string', 'a page title is text', {
      ...details,
      page,
    })
    const next = list[i + 1]
    check(next === undefined || page.url < next.url, 'pages are listed once, by URL', {
      ...details,
      page,
      next,
    })
  }
}

/**
 * What opening an archive fills in: the WARC sources, the captures, the pages, and what to
 * close.
 * @module
 */
import { CaptureIndexBuilder } from './capture-index'
import { PageList } from './pages'
import type { WarcSource } from './record-reader'

/** A collection while it is being opened. */
export interface CollectionParts {
  sources: WarcSource[]
  builder: CaptureIndexBuilder
  pages: PageList
  closers: (() => Promise<void>)[]
}

export function emptyParts(): CollectionParts {
  return { sources: [], builder: new CaptureIndexBuilder(), pages: new PageList(), closers: [] }
}

/**
 * The page a browser shows for a URL the archive lacks, in a collection of many pages: it lists
 * a few of them, those on the host asked for first, and stays small, since every archived page
 * asks for URLs that were never captured (trackers, a favicon).
 */
import type { RecordSpec } from './helpers/archives'
import type { ReplayProxy } from './helpers/replay-proxy'
import { startReplayProxy } from './helpers/replay-proxy'

const page = (url: string): RecordSpec => ({
  url,
  headers: { 'Content-Type': 'text/html' },
  body: '<!doctype html><title>archived</title>',
})

const RECORDS: RecordSpec[] = [
  ...Array.from({ length: 120 }, (_, i) => page(`https://big.example/articles/${1000 + i}`)),
  ...['a', 'b', 'c'].map((name) => page(`https://small.example/${name}`)),
]

let proxy: ReplayProxy
beforeAll(async () => {
  proxy = await startReplayProxy({ 'many.warc.gz': RECORDS })
})
afterAll(async () => {
  await proxy.close()
})

/** The pages a not-archived page links to. */
async function listed(url: string): Promise<{ links: string[]; text: string }> {
  const response = await proxy.get(url)
  expect(response.status).toBe(404)
  const text = await response.text()
  return { links: [...text.matchAll(/<li><a href="([^"]+)"/g)].map((m) => m[1] ?? ''), text }
}

describe('the not-archived page of a large collection', () => {
  it('lists the pages on the host asked for', async () => {
    const { links, text } = await listed('http://small.example/missing')
    expect(links).toEqual(['a', 'b', 'c'].map((name) => `https://small.example/${name}`))
    expect(text).toContain('Archived pages on <b>small.example</b> in this collection')
    expect(text).toContain("3 of 123 pages; the proxy host's own page lists them all.")
  })

  it('lists 50 pages at most, for a host the collection lacks too', async () => {
    const { links, text } = await listed('https://tracker.example/pixel.gif')
    expect(links).toHaveLength(50)
    expect(links[0]).toBe('https://big.example/articles/1000')
    expect(text).toContain('50 of 123 pages')
    expect(text.length).toBeLessThan(10_000)
  })
})

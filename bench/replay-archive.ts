/**
 * The replay benchmark's archive, written with warcio's writer: pages of HTML text and the
 * images they show (random bytes, so gzip cannot shrink them), each response followed by its
 * request record as crawlers write them, every record a gzip member (`.warc.gz`).
 */
import { WARCRecord, WARCSerializer } from 'warcio'
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'

/** What was written. */
export interface BenchArchive {
  file: string
  bytes: number
  /** Response records (what the index holds); as many request records again. */
  responses: number
  /** A sample of archived URLs for the throughput run: pages and images alike. */
  sample: string[]
  /** Every archived URL, in the order written. */
  urls: string[]
}

const IMAGES_PER_PAGE = 3
const SAMPLE_SIZE = 256

/** A generator of pseudo-random bytes, seeded, so every run writes the same archive. */
function bytes(seed: number, size: number): Uint8Array {
  const out = new Uint8Array(size)
  let x = seed * 2654435761 || 1
  for (let i = 0; i < size; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

function page(i: number): string {
  const words = `page ${i} of the benchmark site, archived for replay through the proxy. `
  const images = Array.from(
    { length: IMAGES_PER_PAGE },
    (_, k) => `<img src="https://img${i % 16}.bench.test/${i}/${k}.jpg">`
  ).join('\n')
  return `<!doctype html><title>Page ${i}</title>\n${images}\n<p>${words.repeat(100)}</p>`
}

async function serialize(
  url: string,
  date: string,
  type: 'response' | 'request',
  headers: Record<string, string>,
  body: Uint8Array,
  statusline: string
): Promise<Uint8Array> {
  const record = WARCRecord.create(
    { url, date, type, httpHeaders: headers, statusline, warcVersion: 'WARC/1.1' },
    [body]
  )
  return WARCSerializer.serialize(record, { gzip: true })
}

/** Write an archive of at least `targetBytes` to `file`. */
export async function writeBenchArchive(file: string, targetBytes: number): Promise<BenchArchive> {
  const out = createWriteStream(file)
  let written = 0
  let responses = 0
  const urls: string[] = []
  const write = async (chunk: Uint8Array) => {
    written += chunk.length
    if (!out.write(chunk)) {
      await once(out, 'drain')
    }
  }
  const empty = new Uint8Array()
  for (let i = 0; written < targetBytes; i++) {
    const date = new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString()
    const pageUrl = `https://www.bench.test/pages/${i}.html`
    const resources: [string, string, Uint8Array][] = [
      [pageUrl, 'text/html; charset=utf-8', new TextEncoder().encode(page(i))],
      ...Array.from({ length: IMAGES_PER_PAGE }, (_, k): [string, string, Uint8Array] => [
        `https://img${i % 16}.bench.test/${i}/${k}.jpg`,
        'image/jpeg',
        bytes(i * 8 + k + 1, 2048 + ((i * 7919 + k * 104729) % 14336)),
      ]),
    ]
    for (const [url, type, body] of resources) {
      const headers = { 'Content-Type': type, 'Content-Length': String(body.length) }
      await write(await serialize(url, date, 'response', headers, body, 'HTTP/1.1 200 OK'))
      const path = new URL(url).pathname
      const host = new URL(url).host
      await write(
        await serialize(url, date, 'request', { Host: host }, empty, `GET ${path} HTTP/1.1`)
      )
      responses++
      urls.push(url)
    }
  }
  out.end()
  await once(out, 'close')
  const step = Math.max(1, Math.floor(urls.length / SAMPLE_SIZE))
  const sample = urls.filter((_, i) => i % step === 0).slice(0, SAMPLE_SIZE)
  return { file, bytes: written, responses, sample, urls }
}

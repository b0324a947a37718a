/**
 * Seeking in a large payload stored in a gzip member (a video in a `.warc.gz`): the member is
 * inflated once, for the first range past its start, and later ranges are read from there.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { openReplay } from '../../src/replay/index'
import { afterEachTest, writeWarc } from './helpers/archives'

const { defer, folder } = afterEachTest()

/** Bytes this process has read from files and sockets so far (Linux). */
const bytesRead = () => Number(/^rchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1])

describe('seeking in a video stored in a gzip member', () => {
  it.skipIf(!existsSync('/proc/self/io'))(
    'serves each range right, reading the member once',
    async () => {
      // 6 MiB that do not compress, so the member is as large.
      const video = randomBytes(6 * 1024 * 1024)
      const file = await writeWarc(
        join(await folder(), 'video.warc.gz'),
        [
          {
            url: 'https://v.example/movie.mp4',
            headers: { 'Content-Type': 'video/mp4' },
            body: video,
          },
        ],
        true
      )
      const replay = await openReplay([file])
      defer(() => replay.close())
      const seek = async (first: number, last?: number) => {
        const start = bytesRead()
        const response = await replay.app(
          new Request('http://wsgiprox/video/https://v.example/movie.mp4', {
            headers: { Range: `bytes=${first}-${last ?? ''}` },
          })
        )
        const body = Buffer.from(await response.arrayBuffer())
        const end = last ?? video.length - 1
        expect(response.status).toBe(206)
        expect(response.headers.get('content-range')).toBe(`bytes ${first}-${end}/${video.length}`)
        expect(body.equals(video.subarray(first, end + 1))).toBe(true)
        return bytesRead() - start
      }
      await seek(0, 65535)
      await seek(6_000_000)
      // Seeking again reads the range asked for, not the member before it.
      expect(await seek(5_000_000, 5_065_535)).toBeLessThan(1024 * 1024)
      expect(await seek(3_000_000, 3_065_535)).toBeLessThan(1024 * 1024)
    }
  )
})

describe('seeking in a payload stored gzip-encoded, for a client that does not accept gzip', () => {
  it.skipIf(!existsSync('/proc/self/io'))(
    'decodes it once, and reads later ranges without decoding it again',
    async () => {
      const text = Buffer.from(randomBytes(3 * 1024 * 1024).toString('hex'))
      const stored = gzipSync(text, { level: 1 })
      const file = await writeWarc(join(await folder(), 'text.warc'), [
        {
          url: 'https://v.example/big.txt',
          headers: { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip' },
          body: stored,
        },
      ])
      const replay = await openReplay([file])
      defer(() => replay.close())
      const seek = async (first: number) => {
        const start = bytesRead()
        const response = await replay.app(
          new Request('http://wsgiprox/text/https://v.example/big.txt', {
            headers: { Range: `bytes=${first}-`, 'Accept-Encoding': 'identity' },
          })
        )
        const body = Buffer.from(await response.arrayBuffer())
        expect(response.status).toBe(206)
        expect(response.headers.get('content-encoding')).toBeNull()
        expect(response.headers.get('content-range')).toBe(
          `bytes ${first}-${text.length - 1}/${text.length}`
        )
        expect(body.equals(text.subarray(first))).toBe(true)
        return bytesRead() - start
      }
      await seek(text.length - 1000)
      // The stored payload is 3.5 MB: a later range reads its own bytes, not the payload again.
      expect(await seek(text.length - 5000)).toBeLessThan(1024 * 1024)
      expect(await seek(1_000_000)).toBeLessThan(text.length)
      // A client that takes gzip still gets the payload as stored.
      const encoded = await replay.app(
        new Request('http://wsgiprox/text/https://v.example/big.txt', {
          headers: { 'Accept-Encoding': 'gzip' },
        })
      )
      expect(encoded.headers.get('content-encoding')).toBe('gzip')
      expect(Buffer.from(await encoded.arrayBuffer()).equals(stored)).toBe(true)
    }
  )
})

/** A WARC of six text payloads of 3 MiB stored gzip-encoded: each is kept decoded, four at once. */
async function sixDecoded(): Promise<{ texts: Buffer[]; file: string }> {
  const texts = Array.from({ length: 6 }, () =>
    Buffer.from(randomBytes(1536 * 1024).toString('hex'))
  )
  const file = await writeWarc(
    join(await folder(), 'six.warc'),
    texts.map((text, i) => ({
      url: `https://v.example/${i}.txt`,
      headers: { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip' },
      body: gzipSync(text, { level: 1 }),
    }))
  )
  return { texts, file }
}

it('finishes a body read from a decoded payload after four others pushed its file out', async () => {
  // Each payload is kept decoded in a file, four per WARC: the fifth and sixth push the first
  // out while its answer is still being read, which then failed with "file closed".
  const { texts, file } = await sixDecoded()
  const replay = await openReplay([file])
  defer(() => replay.close())
  const ask = (i: number) =>
    replay.app(
      new Request(`http://wsgiprox/six/https://v.example/${i}.txt`, {
        headers: { Range: 'bytes=10-', 'Accept-Encoding': 'identity' },
      })
    )
  const first = await ask(0)
  expect(first.status).toBe(206)
  const reader = (first.body as ReadableStream<Uint8Array>).getReader()
  const parts = [Buffer.from((await reader.read()).value ?? [])]
  for (let i = 1; i < texts.length; i++) {
    expect(
      Buffer.from(await (await ask(i)).arrayBuffer()).equals(
        texts[i]?.subarray(10) ?? Buffer.alloc(0)
      )
    ).toBe(true)
  }
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    parts.push(Buffer.from(next.value))
  }
  expect(Buffer.concat(parts).equals(texts[0]?.subarray(10) ?? Buffer.alloc(0))).toBe(true)
})

it('serves concurrent ranges of six decoded payloads while they push one another out', async () => {
  // A file pushed out between the answer that asked for it and that answer's first read was
  // closed under it: 'file closed' in most of sixty concurrent range requests.
  const { texts, file } = await sixDecoded()
  const replay = await openReplay([file])
  defer(() => replay.close())
  const wrong = await Promise.all(
    Array.from({ length: 60 }, async (_, k) => {
      const i = k % texts.length
      const from = (k * 977) % 1000
      try {
        const response = await replay.app(
          new Request(`http://wsgiprox/six/https://v.example/${i}.txt`, {
            headers: { Range: `bytes=${from}-`, 'Accept-Encoding': 'identity' },
          })
        )
        const body = Buffer.from(await response.arrayBuffer())
        return body.equals(texts[i]?.subarray(from) ?? Buffer.alloc(0)) ? [] : [`${k}: wrong bytes`]
      } catch (error) {
        return [`${k}: ${String(error)}`]
      }
    })
  )
  expect(wrong.flat()).toEqual([])
})

it.skipIf(!existsSync('/proc/self/fd'))(
  'closes a decoded file pushed out after an answer asked a range past its end (416)',
  async () => {
    const { texts, file } = await sixDecoded()
    const openFds = () => readdirSync('/proc/self/fd').length
    const before = openFds()
    const replay = await openReplay([file])
    defer(() => replay.close())
    for (let i = 0; i < texts.length; i++) {
      const response = await replay.app(
        new Request(`http://wsgiprox/six/https://v.example/${i}.txt`, {
          headers: { Range: 'bytes=99999999-', 'Accept-Encoding': 'identity' },
        })
      )
      expect(response.status).toBe(416)
    }
    // The WARC and the four decoded files kept; the two pushed out are closed, not held.
    for (let waited = 0; openFds() !== before + 5 && waited < 2000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(openFds()).toBe(before + 5)
  }
)

it('serves concurrent ranges of six videos in gzip members while they push one another out', async () => {
  // The same race on the inflated members: 54 of 60 ranges failed before each caller held its file.
  const videos = Array.from({ length: 6 }, () => randomBytes(2 * 1024 * 1024))
  const file = await writeWarc(
    join(await folder(), 'videos.warc.gz'),
    videos.map((body, i) => ({
      url: `https://v.example/${i}.mp4`,
      headers: { 'Content-Type': 'video/mp4' },
      body,
    })),
    true
  )
  const replay = await openReplay([file])
  defer(() => replay.close())
  const wrong = await Promise.all(
    Array.from({ length: 60 }, async (_, k) => {
      const i = k % videos.length
      const from = 1 + ((k * 7919) % 100_000)
      try {
        const response = await replay.app(
          new Request(`http://wsgiprox/videos/https://v.example/${i}.mp4`, {
            headers: { Range: `bytes=${from}-` },
          })
        )
        const body = Buffer.from(await response.arrayBuffer())
        return body.equals(videos[i]?.subarray(from) ?? Buffer.alloc(0))
          ? []
          : [`${k}: wrong bytes`]
      } catch (error) {
        return [`${k}: ${String(error)}`]
      }
    })
  )
  expect(wrong.flat()).toEqual([])
})

/**
 * Archives that are damaged or are not archives: each problem is one line naming the file (and
 * the offset where it applies), every readable record is still served, and nothing throws.
 */
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import type { Replay } from '../../src/replay/index'
import { openReplay } from '../../src/replay/index'
import { within } from '../helpers/within'
import type { RecordSpec } from './helpers/archives'
import { lyingLength, recordBytes, tempFolder, writeWacz } from './helpers/archives'

const RECORDS: RecordSpec[] = ['a', 'b', 'c'].map((name) => ({
  url: `https://example.com/${name}`,
  headers: { 'Content-Type': 'text/plain' },
  body: `record ${name} `.repeat(20),
}))

let cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) {
    await cleanup()
  }
  cleanups = []
})

async function folder() {
  const { dir, cleanup } = await tempFolder()
  cleanups.push(cleanup)
  return dir
}

const EMPTY = new Uint8Array()

/** The three records' bytes, each a separate gzip member or plain record. */
const parts = (gzip: boolean) => Promise.all(RECORDS.map((spec) => recordBytes(spec, gzip)))

async function open(paths: string[]): Promise<{ replay: Replay; warnings: string[] }> {
  const warnings: string[] = []
  const replay = await openReplay(paths, { onWarning: (line) => warnings.push(line) })
  cleanups.push(() => replay.close())
  return { replay, warnings }
}

/** Which of a, b and c the replay serves (status 200 with the record's body). */
async function served(replay: Replay): Promise<string[]> {
  const name = replay.collections[0]?.name ?? ''
  const found: string[] = []
  for (const spec of RECORDS) {
    const response = await replay.app(new Request(`http://wsgiprox/${name}/${spec.url}`))
    if (response.status === 200 && (await response.text()) === spec.body) {
      found.push(spec.url.slice(-1))
    }
  }
  return found
}

describe('damaged archives', () => {
  it.each([false, true])(
    'serves every whole record of a truncated WARC (gzip: %s)',
    async (gzip) => {
      const dir = await folder()
      const records = await parts(gzip)
      const bytes = Buffer.concat(records)
      const file = join(dir, gzip ? 'cut.warc.gz' : 'cut.warc')
      await writeFile(file, bytes.subarray(0, bytes.length - 40))
      const { replay, warnings } = await open([file])
      expect(await served(replay)).toEqual(['a', 'b'])
      const [first = 0, second = 0] = records.map((p) => p.length)
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(
        new RegExp(`^${file}: offset ${first + second}: .*(truncated|corrupt)`)
      )
    }
  )

  it('skips a corrupt gzip member and serves the records after it', async () => {
    const dir = await folder()
    const [a = EMPTY, b = EMPTY, c = EMPTY] = await parts(true)
    const broken = Buffer.from(b)
    broken.fill(0x55, 20, 60)
    const file = join(dir, 'corrupt.warc.gz')
    await writeFile(file, Buffer.concat([a, broken, c]))
    const { replay, warnings } = await open([file])
    expect(await served(replay)).toEqual(['a', 'c'])
    const start = a.length
    expect(warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${file}: offset ${start}: .*skipped to the next record at offset ${start + broken.length}$`
        )
      ),
    ])
  })

  it.each([false, true])(
    'skips a record whose Content-Length is no number, saying so, and serves the rest (gzip: %s)',
    async (gzip) => {
      const dir = await folder()
      const [a = EMPTY, b = EMPTY, c = EMPTY] = await parts(false)
      const garbled = Buffer.from(b)
      // The WARC header's Content-Length comes first: "Content-Length: 3x1" is no number.
      garbled[garbled.indexOf('Content-Length: ') + 'Content-Length: '.length + 1] = 0x78
      const records = [a, garbled, c].map((record) => (gzip ? gzipSync(record) : record))
      const file = join(dir, gzip ? 'length.warc.gz' : 'length.warc')
      await writeFile(file, Buffer.concat(records))
      const { replay, warnings } = await open([file])
      expect(await served(replay)).toEqual(['a', 'c'])
      const [first = EMPTY, second = EMPTY] = records
      expect(warnings).toEqual([
        `${file}: offset ${first.length}: no valid Content-Length (response https://example.com/b); skipped to the next record at offset ${first.length + second.length}`,
      ])
    }
  )

  it.each([5, 400])(
    'skips a plain record whose Content-Length takes in the next record (%i bytes), and serves that one',
    async (delta) => {
      const dir = await folder()
      const [a = EMPTY, b = EMPTY, c = EMPTY] = await parts(false)
      const lying = lyingLength(b, delta)
      const file = join(dir, 'lying.warc')
      await writeFile(file, Buffer.concat([a, lying, c]))
      const { replay, warnings } = await open([file])
      expect(await served(replay)).toEqual(['a', 'c'])
      expect(warnings).toEqual([
        `${file}: offset ${a.length}: its Content-Length runs into the next record (response https://example.com/b); skipped to the next record at offset ${a.length + lying.length}`,
      ])
    }
  )

  it.each([5, 400])(
    'skips a gzip member whose Content-Length runs into the next member (%i bytes), and serves that one',
    async (delta) => {
      const dir = await folder()
      const [a = EMPTY, b = EMPTY, c = EMPTY] = await parts(false)
      const records = [a, lyingLength(b, delta), c].map((record) => gzipSync(record))
      const file = join(dir, 'lying.warc.gz')
      await writeFile(file, Buffer.concat(records))
      const { replay, warnings } = await open([file])
      expect(await served(replay)).toEqual(['a', 'c'])
      const [first = EMPTY, second = EMPTY] = records
      expect(warnings).toEqual([
        `${file}: offset ${first.length}: its Content-Length runs past its gzip member (response https://example.com/b); skipped to the next record at offset ${first.length + second.length}`,
      ])
      // b is not indexed at all: no capture that cannot be read (502), but "not in the archive".
      const lost = await replay.app(new Request('http://wsgiprox/lying/https://example.com/b'))
      expect(lost.status).toBe(404)
    }
  )

  it('says so when a gzip member goes on after its record, and serves the next one', async () => {
    const dir = await folder()
    const [a = EMPTY, b = EMPTY, c = EMPTY] = await parts(false)
    const lying = lyingLength(b, -3)
    const records = [a, lying, c].map((record) => gzipSync(record))
    const file = join(dir, 'lying.warc.gz')
    await writeFile(file, Buffer.concat(records))
    const { replay, warnings } = await open([file])
    expect(warnings).toEqual([
      `${file}: offset ${records[0]?.length}: its Content-Length does not end where its gzip member does (response https://example.com/b)`,
    ])
    expect(await served(replay)).toEqual(['a', 'c'])
  })

  it.each([12, 40, 90])(
    "says a plain WARC cut %i bytes into its last record's headers is truncated",
    async (into) => {
      // warcio reads headers cut before their Content-Length as a record of length 0.
      const dir = await folder()
      const [a = EMPTY, b = EMPTY, c = EMPTY] = await parts(false)
      const file = join(dir, 'cut-headers.warc')
      await writeFile(file, Buffer.concat([a, b, c.subarray(0, into)]))
      const { replay, warnings } = await open([file])
      expect(warnings).toEqual([
        `${file}: offset ${a.length + b.length}: truncated record (the file ends inside its WARC headers); skipped the last ${into} bytes`,
      ])
      expect(await served(replay)).toEqual(['a', 'b'])
    }
  )

  it('skips garbage between plain records', async () => {
    const dir = await folder()
    const [a = EMPTY, b = EMPTY, c = EMPTY] = await parts(false)
    const file = join(dir, 'garbage.warc')
    await writeFile(file, Buffer.concat([a, Buffer.from('x'.repeat(100)), b, c]))
    const { replay, warnings } = await open([file])
    expect(await served(replay)).toEqual(['a', 'b', 'c'])
    expect(warnings).toEqual([expect.stringContaining(`${file}: offset ${a.length}`)])
  })

  it('indexes a WACZ without an index, saying so once', async () => {
    const dir = await folder()
    const file = await writeWacz(join(dir, 'noindex.wacz'), RECORDS, { index: false })
    const { replay, warnings } = await open([file])
    expect(await served(replay)).toEqual(['a', 'b', 'c'])
    expect(warnings).toEqual([
      `${file}: the WACZ has no CDXJ index (indexes/*.cdx, *.cdxj); indexing its WARCs instead`,
    ])
  })

  it('indexes a WACZ whose index is corrupt, saying so once', async () => {
    const dir = await folder()
    const file = await writeWacz(join(dir, 'badindex.wacz'), RECORDS, { index: 'corrupt' })
    const { replay, warnings } = await open([file])
    expect(await served(replay)).toEqual(['a', 'b', 'c'])
    expect(warnings).toEqual([
      expect.stringMatching(
        new RegExp(`^${file}: its CDXJ index cannot be read \\(.+\\); indexing its WARCs instead$`)
      ),
    ])
  })

  it('reads a WACZ whose WARC is deflated inside the zip', async () => {
    const dir = await folder()
    const file = await writeWacz(join(dir, 'deflated.wacz'), RECORDS, { compressWarc: true })
    const { replay, warnings } = await open([file])
    expect(await served(replay)).toEqual(['a', 'b', 'c'])
    expect(warnings).toEqual([])
  })

  it('serves every record of a WARC deflated inside the zip, members across its chunks too', async () => {
    // Bytes that do not compress: each gzip member spans the 16 KiB chunks the zip stream gives.
    const bodies = Array.from({ length: 12 }, (_, i) => randomBytes(10_000 + i * 997))
    const specs = bodies.map((body, i) => ({
      url: `https://example.com/file${i}`,
      headers: { 'Content-Type': 'application/octet-stream' },
      body,
    }))
    const dir = await folder()
    const file = await writeWacz(join(dir, 'deflated.wacz'), specs, { compressWarc: true })
    const { replay, warnings } = await open([file])
    const name = replay.collections[0]?.name ?? ''
    for (const [i, spec] of specs.entries()) {
      const response = await replay.app(new Request(`http://wsgiprox/${name}/${spec.url}`))
      expect(response.status, spec.url).toBe(200)
      expect(Buffer.from(await response.arrayBuffer()).equals(bodies[i] ?? EMPTY), spec.url).toBe(
        true
      )
    }
    expect(warnings).toEqual([])
  })

  it('answers requests side by side for records of a WARC deflated inside the zip', async () => {
    const specs = Array.from({ length: 400 }, (_, i) => ({
      url: `https://example.com/many${i}`,
      headers: { 'Content-Type': 'application/octet-stream' },
      body: randomBytes(10_000),
    }))
    const dir = await folder()
    const file = await writeWacz(join(dir, 'deflated.wacz'), specs, { compressWarc: true })
    const { replay } = await open([file])
    const name = replay.collections[0]?.name ?? ''
    const ask = async (i: number) => {
      const response = await replay.app(new Request(`http://wsgiprox/${name}/${specs[i]?.url}`))
      return `${response.status} ${(await response.arrayBuffer()).byteLength}`
    }
    for (let round = 0; round < 3; round++) {
      const asked = [399, 398, 250, 300, 120, 397].map((i) => i - round * 7)
      const answers = await within(
        Promise.all(asked.map(ask)),
        'the requests side by side were never all answered'
      )
      expect(answers).toEqual(asked.map(() => '200 10000'))
    }
  })

  it('names a missing file, a file that is not an archive and a broken zip, and opens the rest', async () => {
    const dir = await folder()
    const good = await writeWacz(join(dir, 'good.wacz'), RECORDS)
    const text = join(dir, 'notes.warc')
    await writeFile(text, 'these are notes, not an archive\n')
    const zip = join(dir, 'broken.wacz')
    await writeFile(zip, 'PK\x03\x04 and then nothing a zip reader can use')
    const missing = join(dir, 'missing.warc.gz')
    const { replay, warnings } = await open([missing, text, zip, good])
    expect(replay.collections.map((c) => c.name)).toEqual(['good'])
    expect(await served(replay)).toEqual(['a', 'b', 'c'])
    expect(warnings).toEqual([
      `${missing}: no such file or folder`,
      `${text}: not a WARC or WACZ file (it starts with neither WARC/1. nor a gzip or zip header)`,
      expect.stringMatching(new RegExp(`^${zip}: not a readable WACZ \\(.+\\)$`)),
    ])
  })

  it('rejects with one line when no archive can be opened', async () => {
    const dir = await folder()
    await expect(openReplay([join(dir, 'none.warc')])).rejects.toThrow(
      `no archive to replay in ${join(dir, 'none.warc')}`
    )
  })
})

/**
 * Open a WARC of a, b and c (gzip members or plain records), then change its bytes in place with
 * `change` (given the file's bytes and the lengths of a and b): the replay, and its answer for b.
 */
async function changedAfterIndexing(
  gzip: boolean,
  change: (bytes: Buffer, a: number, b: number) => void
): Promise<{ replay: Replay; response: Response }> {
  const dir = await folder()
  const records = await parts(gzip)
  const file = join(dir, gzip ? 'changed.warc.gz' : 'changed.warc')
  await writeFile(file, Buffer.concat(records))
  const { replay } = await open([file])
  const changed = Buffer.concat(records)
  change(changed, records[0]?.length ?? 0, records[1]?.length ?? 0)
  await writeFile(file, changed)
  const name = replay.collections[0]?.name ?? ''
  const response = await replay.app(new Request(`http://wsgiprox/${name}/https://example.com/b`))
  return { replay, response }
}

describe('records changed after indexing', () => {
  it('answers a gzip member with an error, whatever length its trailer claims, and serves the others', async () => {
    // The trailer's inflated length (ISIZE) of b now says 4 GiB; serving sizes its buffer by it.
    const { replay, response } = await changedAfterIndexing(true, (bytes, a, b) => {
      bytes.writeUInt32LE(0xffffffff, a + b - 4)
    })
    expect(response.status).toBeGreaterThanOrEqual(500)
    expect(await served(replay)).toEqual(['a', 'c'])
  })

  it('answers 502 when a Content-Length is no number any more, and serves the others', async () => {
    const { replay, response } = await changedAfterIndexing(false, (bytes, a) => {
      bytes[bytes.indexOf('Content-Length: ', a) + 'Content-Length: '.length + 1] = 0x78
    })
    expect(response.status).toBe(502)
    expect(await response.text()).toMatch(/offset \d+ has no valid Content-Length/)
    expect(await served(replay)).toEqual(['a', 'c'])
  })
})

/**
 * What a WACZ holds besides a stored WARC: a WARC deflated inside the zip is inflated once, not
 * once per capture served; members with planted names are skipped, and the rest served.
 */
import { ZipFile } from 'yazl'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { readdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deflateRawSync } from 'node:zlib'
import { openReplay } from '../../src/replay/index'
import { afterEachTest, cdxj, warcBytes, writeWacz } from './helpers/archives'

const { defer, folder } = afterEachTest()

/** Bytes this process has read from files and sockets so far (Linux). */
const bytesRead = () => Number(/^rchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1])

const inflatedFiles = async () =>
  (await readdir(tmpdir())).filter((name) => name.startsWith('wsgiprox-wacz-'))

describe('a WARC deflated inside a WACZ', () => {
  it.skipIf(!existsSync('/proc/self/io'))(
    'serves its last capture without reading the whole entry again',
    async () => {
      // 12 MiB that do not compress, so the entry is as large deflated.
      const specs = Array.from({ length: 48 }, (_, i) => ({
        url: `https://example.com/part${i}`,
        headers: { 'Content-Type': 'application/octet-stream' },
        body: randomBytes(256 * 1024),
      }))
      const file = await writeWacz(join(await folder(), 'deflated.wacz'), specs, {
        compressWarc: true,
      })
      const before = await inflatedFiles()
      const replay = await openReplay([file])
      defer(() => replay.close())
      // The temporary file has no name left on disk.
      expect(await inflatedFiles()).toEqual(before)
      for (const i of [47, 46, 47]) {
        const start = bytesRead()
        const response = await replay.app(
          new Request(`http://wsgiprox/deflated/https://example.com/part${i}`)
        )
        const body = Buffer.from(await response.arrayBuffer())
        expect(response.status).toBe(200)
        expect(body.equals(specs[i]?.body ?? Buffer.alloc(0))).toBe(true)
        // The capture (256 KiB), not the 12 MiB before it.
        expect(bytesRead() - start).toBeLessThan(2 * 1024 * 1024)
      }
    }
  )
  it('keeps what inflated before a corrupt part of the entry, and says so', async () => {
    const specs = Array.from({ length: 400 }, (_, i) => ({
      url: `https://example.com/page${i}`,
      headers: { 'Content-Type': 'text/plain' },
      body: `page ${i} says ${'something different each time '.repeat(i + 1)}`,
    }))
    // A plain WARC deflated and cut short: stored by yazl, then marked deflated (method 8) in
    // its local and central headers.
    const deflated = deflateRawSync(await warcBytes(specs))
    const bytes = await zipOf([['archive/data.warc', deflated.subarray(0, deflated.length / 2)]])
    bytes.writeUInt16LE(8, 8)
    bytes.writeUInt16LE(8, bytes.indexOf(Buffer.of(0x50, 0x4b, 0x01, 0x02)) + 10)
    const file = join(await folder(), 'damaged.wacz')
    await writeFile(file, bytes)
    const warnings: string[] = []
    const replay = await openReplay([file], { onWarning: (line) => warnings.push(line) })
    defer(() => replay.close())
    const member = `${file}!archive/data.warc`
    expect(warnings).toEqual([
      expect.stringMatching(
        /: its deflated bytes are corrupt \(unexpected end of file\); reading the \d+ bytes inflated before the damage$/
      ),
      `${file}: the WACZ has no CDXJ index (indexes/*.cdx, *.cdxj); indexing its WARCs instead`,
      expect.stringMatching(
        // Where the damage cuts the inflated bytes varies from run to run (zlib drops what it
        // inflated in the call that fails): inside a record's content or inside its headers.
        /: offset \d+: truncated record \((response https:\/\/example\.com\/page\d+|the file ends inside its WARC headers)\); skipped the last \d+ bytes$/
      ),
    ])
    expect(warnings.every((line) => line.startsWith(member) || line.startsWith(`${file}:`))).toBe(
      true
    )
    for (const i of [0, 50]) {
      const response = await replay.app(new Request(`http://wsgiprox/damaged/${specs[i]?.url}`))
      expect(response.status).toBe(200)
      expect(await response.text()).toBe(specs[i]?.body)
    }
  })
})

/** A zip of stored `entries`, then with each `[from, to]` of `renames` replaced in its bytes. */
async function zipOf(
  entries: [string, Uint8Array][],
  renames: [string, string][] = []
): Promise<Buffer> {
  const zip = new ZipFile()
  for (const [name, data] of entries) {
    zip.addBuffer(Buffer.from(data), name, { compress: false })
  }
  zip.end()
  const chunks: Buffer[] = []
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) {
    chunks.push(chunk)
  }
  // yazl refuses such names itself: they are planted in the bytes, of the same length.
  let text = Buffer.concat(chunks).toString('latin1')
  for (const [from, to] of renames) {
    text = text.replaceAll(from, to)
  }
  return Buffer.from(text, 'latin1')
}

describe('members with planted names', () => {
  const ask = async (
    file: string,
    entries: [string, Uint8Array][],
    renames?: [string, string][]
  ) => {
    await writeFile(file, await zipOf(entries, renames))
    const warnings: string[] = []
    const replay = await openReplay([file], { onWarning: (line) => warnings.push(line) })
    defer(() => replay.close())
    const name = replay.collections[0]?.name ?? ''
    const response = await replay.app(new Request(`http://wsgiprox/${name}/https://a.example/`))
    return { warnings, answer: `${response.status} ${await response.text()}` }
  }
  const archive = async () => {
    const good = await warcBytes([{ url: 'https://a.example/', body: 'the archived page' }], true)
    const planted = await warcBytes([{ url: 'https://a.example/', body: 'planted' }], true)
    const index = Buffer.from(await cdxj(good, 'data.warc.gz'))
    return { good, planted, index }
  }

  it.each([
    ['archive/xx/planted.warc.gz', 'archive/../planted.warc.gz'],
    ['Xarchive/planted.warc.gz', '/archive/planted.warc.gz'],
  ])(
    'skips a member named %s (planted as %s), saying so, and serves the rest',
    async (written, planted) => {
      const { good, planted: bytes, index } = await archive()
      const file = join(await folder(), 'planted.wacz')
      const { warnings, answer } = await ask(
        file,
        [
          ['archive/data.warc.gz', good],
          [written, bytes],
          ['indexes/index.cdx', index],
        ],
        [[written, planted]]
      )
      expect(answer).toBe('200 the archived page')
      expect(warnings).toEqual([`${file}: member "${planted}" is no plain relative path; skipped`])
    }
  )

  it('reads the first of two members of the same name, saying so', async () => {
    const { good, planted, index } = await archive()
    const file = join(await folder(), 'twice.wacz')
    const { warnings, answer } = await ask(file, [
      ['archive/data.warc.gz', good],
      ['archive/data.warc.gz', planted],
      ['indexes/index.cdx', index],
    ])
    expect(answer).toBe('200 the archived page')
    expect(warnings).toEqual([
      `${file}: member "archive/data.warc.gz" is in the zip twice; only the first is read`,
    ])
  })

  it('reads the WARC the index names, not another of the same name in a folder', async () => {
    const { good, planted, index } = await archive()
    const file = join(await folder(), 'folders.wacz')
    const { warnings, answer } = await ask(file, [
      ['archive/data.warc.gz', good],
      ['archive/more/data.warc.gz', planted],
      ['indexes/index.cdx', index],
    ])
    expect(answer).toBe('200 the archived page')
    expect(warnings).toEqual([])
  })
})

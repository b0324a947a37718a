/**
 * A WACZ whose index does not describe its WARCs (a legacy CDX, another WARC's name, offsets
 * that are off) is indexed from its WARCs, with one line saying why, so that every capture in
 * it is served through the proxy.
 */
import { join } from 'node:path'
import type { Replay } from '../../src/replay/index'
import { openReplay } from '../../src/replay/index'
import { proxyGet } from '../helpers/clients'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'
import type { RecordSpec, WaczOptions } from './helpers/archives'
import { tempFolder, writeWacz } from './helpers/archives'

const RECORDS: RecordSpec[] = ['a', 'b', 'c'].map((name) => ({
  url: `http://example.com/${name}`,
  headers: { 'Content-Type': 'text/plain' },
  body: `record ${name}`,
}))

let closers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const close of closers.reverse()) {
    await close()
  }
  closers = []
})

/** A proxy replaying a WACZ of RECORDS written with `index`; what it serves and warns. */
async function replayOf(index: WaczOptions['index']) {
  const { dir, cleanup } = await tempFolder()
  closers.push(cleanup)
  const file = await writeWacz(join(dir, 'site.wacz'), RECORDS, { index })
  const warnings: string[] = []
  const replay: Replay = await openReplay([file], { onWarning: (line) => warnings.push(line) })
  closers.push(() => replay.close())
  const running: RunningProxy = await startProxy(replay.app, { resolver: replay.resolver })
  closers.push(() => running.close())
  const served: string[] = []
  for (const spec of RECORDS) {
    const reply = await proxyGet(running.port, spec.url)
    served.push(`${reply.status} ${reply.body}`)
  }
  return { file, served, warnings }
}

describe('a WACZ index that does not describe its WARCs', () => {
  it.each([
    ['a legacy space-separated CDX', 'legacy-cdx', 'lists no capture in its WARCs'],
    ['a CDXJ naming a WARC the zip lacks', 'other-warc', 'lists no capture in its WARCs'],
    ['a CDXJ whose offsets are off', 'wrong-offsets', 'does not match its WARCs: offset'],
  ] as const)('serves every capture when the index is %s', async (_name, index, reason) => {
    const { file, served, warnings } = await replayOf(index)
    expect(served).toEqual(['200 record a', '200 record b', '200 record c'])
    expect(warnings.at(-1)).toMatch(
      new RegExp(`^${file}: its CDXJ index ${reason}.*; indexing its WARCs instead$`)
    )
  })

  it.each([true, 'zipnum'] as const)(
    'uses an index that describes its WARCs (%s), with no warning',
    async (index) => {
      const { served, warnings } = await replayOf(index)
      expect(served).toEqual(['200 record a', '200 record b', '200 record c'])
      expect(warnings).toEqual([])
    }
  )
})

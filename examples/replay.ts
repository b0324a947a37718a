/**
 * Replay: a small web archive served through the proxy, as `wsgiprox replay` does. It writes a
 * WARC of a made-up site with warcio (two pages, captured on 2020-01-01), opens it with
 * openReplay and serves it; ARCHIVE=path serves an archive of yours instead.
 *
 *   npx tsx examples/replay.ts
 *   curl -i -x http://127.0.0.1:8080 http://example.com/          # the archived page, with Memento-Datetime
 *   curl --cacert ca/wsgiprox-ca.pem -x http://127.0.0.1:8080 https://example.com/about
 *   curl -i -x http://127.0.0.1:8080 http://example.com/missing   # 404: nothing is fetched live
 */
import { WARCRecord, WARCSerializer } from 'warcio'
import { createProxy } from 'wsgiprox'
import { openReplay } from 'wsgiprox/replay'
import { mkdtemp, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** One archived HTML page, as a gzipped WARC response record. */
async function capture(url: string, html: string): Promise<Uint8Array> {
  const record = WARCRecord.create(
    {
      url,
      date: '2020-01-01T00:00:00Z',
      type: 'response',
      statusline: 'HTTP/1.1 200 OK',
      httpHeaders: { 'Content-Type': 'text/html; charset=utf-8' },
    },
    [new TextEncoder().encode(html)]
  )
  return WARCSerializer.serialize(record, { gzip: true })
}

async function writeExampleArchive(): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'wsgiprox-replay-')), 'example.warc.gz')
  const records = await Promise.all([
    capture('https://example.com/', '<title>Home</title><a href="/about">About</a>\n'),
    capture('https://example.com/about', '<title>About</title>archived in 2020\n'),
  ])
  await writeFile(file, Buffer.concat(records))
  return file
}

const archive = process.env.ARCHIVE ?? (await writeExampleArchive())
const replay = await openReplay([archive], {
  onWarning: (line) => {
    console.error(line)
  },
})
const proxy = createProxy(replay.app, { resolver: replay.resolver })
const server = await proxy.listen(Number(process.env.PORT ?? 8080), '127.0.0.1')
const address = server.address() as AddressInfo
console.log(`replaying ${archive}`)
console.log(`listening on http://127.0.0.1:${address.port}`)

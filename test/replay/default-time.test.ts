/**
 * A replay pinned to a time (`timestamp`, `wsgiprox replay --timestamp`), as pywb's proxy mode
 * takes a default timestamp: every request without `Accept-Datetime` gets the capture closest to
 * it; one with `Accept-Datetime` still gets the capture closest to that.
 */
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { main } from '../../src/cli/index'
import { runReplay } from '../../src/cli/replay'
import { openReplay } from '../../src/replay/index'
import { replayTimestamp } from '../../src/replay/memento'
import { proxyGet } from '../helpers/clients'
import { readText } from '../helpers/streams'
import type { RecordSpec } from './helpers/archives'
import { afterEachTest, writeWarc } from './helpers/archives'

const { defer, folder } = afterEachTest()

const YEARS = ['2019', '2020', '2021']
const RECORDS: RecordSpec[] = YEARS.map((year) => ({
  url: 'https://news.example/',
  date: `${year}-06-01T00:00:00Z`,
  headers: { 'Content-Type': 'text/html' },
  body: `<!doctype html><title>news of ${year}</title>`,
}))

async function archive() {
  return writeWarc(join(await folder(), 'news.warc'), RECORDS)
}

describe('a replay pinned to a time', () => {
  it('answers requests without Accept-Datetime with the capture closest to it', async () => {
    const file = await archive()
    const latest = await openReplay([file])
    defer(() => latest.close())
    const pinned = await openReplay([file], { timestamp: '20200301' })
    defer(() => pinned.close())
    const ask = async (app: typeof latest.app, headers: Record<string, string> = {}) => {
      const response = await app(
        new Request('http://wsgiprox/news/https://news.example/', { headers })
      )
      return `${response.headers.get('memento-datetime')} ${await response.text()}`
    }
    expect(await ask(latest.app)).toMatch(/^Tue, 01 Jun 2021 .*news of 2021/)
    expect(await ask(pinned.app)).toMatch(/^Mon, 01 Jun 2020 .*news of 2020/)
    // Accept-Datetime still picks, per request.
    const then = { 'Accept-Datetime': 'Tue, 01 Jan 2019 00:00:00 GMT' }
    expect(await ask(pinned.app, then)).toMatch(/news of 2019/)
    expect(await ask(pinned.app)).toMatch(/news of 2020/)
  })

  it.each(['2020-03', '202013', '20200431', '2020030', 'soon', ''])(
    'refuses the timestamp %j before opening anything',
    async (timestamp) => {
      expect(replayTimestamp(timestamp)).toBeUndefined()
      await expect(openReplay([await archive()], { timestamp })).rejects.toThrow(RangeError)
    }
  )

  it.each([
    ['2020', '2020-01-01T00:00:00Z'],
    ['20200229', '2020-02-29T00:00:00Z'],
    ['20200131235959', '2020-01-31T23:59:59Z'],
  ])('reads %s as %s', (timestamp, iso) => {
    expect(replayTimestamp(timestamp)).toBe(Date.parse(iso) / 1000)
  })

  it('is the --timestamp of wsgiprox replay, through the proxy', async () => {
    const file = await archive()
    const dir = await folder()
    const stdout = new PassThrough()
    const io = { stdout, stderr: new PassThrough() }
    const args = [file, '--timestamp', '2019', '--port', '0', '--quiet']
    const stop = await runReplay([...args, '--ca-file', join(dir, 'ca.pem')], io)
    defer(async () => stop?.())
    const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(readText(stdout))?.[1])
    const reply = await proxyGet(port, 'http://news.example/')
    expect(reply.status).toBe(200)
    expect(reply.body).toContain('news of 2019')
  })

  it('refuses a --timestamp that is none with exit code 2', async () => {
    const stderr = new PassThrough()
    const io = { stdout: new PassThrough(), stderr }
    expect(await main(['replay', await archive(), '--timestamp', '2020-03'], io)).toBe(2)
    expect(readText(stderr)).toMatch(
      /^wsgiprox: --timestamp "2020-03" is not one: YYYY to YYYYMMDDhhmmss, in UTC/
    )
  })
})

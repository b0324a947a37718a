/**
 * `wsgiprox replay`: the banner names each collection with its page count, a damaged or missing
 * archive is one line on stderr, and a command line with nothing to replay is refused.
 */
import { writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { PassThrough } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { main } from '../../src/cli/index'
import { REPLAY_OPTIONS, runReplay } from '../../src/cli/replay'
import { proxyGet } from '../helpers/clients'
import { startListening, TSX_IMPORT } from '../helpers/spawn'
import { readText } from '../helpers/streams'
import { lyingLength, recordBytes, tempFolder, writeWacz, writeWarc } from './helpers/archives'
import { OTHER, PAGE_HOST, SITE } from './helpers/site'

const CLI = resolve(import.meta.dirname, '../../src/cli/index.ts')

function buffers() {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  const read = (stream: PassThrough) => () => readText(stream)
  return { io: { stdout, stderr }, out: read(stdout), err: read(stderr) }
}

let cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) {
    await cleanup()
  }
  cleanups = []
})

async function archives() {
  const { dir, cleanup } = await tempFolder()
  cleanups.push(cleanup)
  await writeWarc(join(dir, 'site.warc.gz'), SITE, true)
  await writeWacz(join(dir, 'other.wacz'), OTHER)
  return dir
}

describe('wsgiprox replay', () => {
  it('serves a folder of archives as collections and names them in the banner', async () => {
    const dir = await archives()
    const { io, out, err } = buffers()
    const missing = join(dir, 'gone.warc')
    const args = [dir, missing, '--port', '0', '--ca-file', join(dir, 'ca.pem'), '--quiet']
    const stop = await runReplay(args, io)
    expect(stop).toBeDefined()
    cleanups.push(async () => stop?.())
    const banner = out()
    expect(banner).toMatch(/replaying 2 collections:/)
    expect(banner).toContain(`other: 1 page, 1 capture (${join(dir, 'other.wacz')})`)
    expect(banner).toContain(`site: 2 pages, 9 captures (${join(dir, 'site.warc.gz')})`)
    expect(banner).toContain('pick one with the proxy user name')
    expect(err()).toBe(`warning: ${missing}: no such file or folder\n`)

    const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(banner)?.[1])
    const auth = `Basic ${Buffer.from('other:x').toString('base64')}`
    const reply = await proxyGet(port, `http://${PAGE_HOST}/`, {
      headers: { 'Proxy-Authorization': auth },
    })
    expect(reply.body).toContain('from the other archive')
  })

  it("prints its own line for a record whose Content-Length lies, not warcio's", async () => {
    const dir = await archives()
    const lying = lyingLength(
      await recordBytes({ url: 'https://example.com/b', body: 'bbbbbb' }, false),
      -3
    )
    const file = join(dir, 'lying.warc.gz')
    await writeFile(
      file,
      Buffer.concat([
        gzipSync(await recordBytes({ url: 'https://example.com/a', body: 'aaa' }, false)),
        gzipSync(lying),
        gzipSync(await recordBytes({ url: 'https://example.com/c', body: 'ccc' }, false)),
      ])
    )
    const running = await startListening(
      ['--import', TSX_IMPORT, CLI, 'replay', file, '--port', '0'],
      {
        cwd: dir,
      }
    )
    cleanups.push(() => running.stop())
    const output = running.output()
    expect(output).not.toMatch(/Content-Length Too Small/)
    expect(output).toMatch(
      /^warning: \S+lying\.warc\.gz: offset \d+: its Content-Length does not end where its gzip member does \(response https:\/\/example\.com\/b\)$/m
    )
  })

  it('prints its help with the flags it takes', async () => {
    const { io, out } = buffers()
    expect(await main(['replay', '--help'], io)).toBe(0)
    const help = out()
    expect(help).toMatch(/^usage: wsgiprox replay <file\.warc/)
    for (const flag of Object.keys(REPLAY_OPTIONS)) {
      expect(help).toMatch(new RegExp(`^ +(-\\w, )?--${flag}\\b`, 'm'))
    }
  })

  it.each([
    [[], 2, /^wsgiprox: replay needs at least one archive/],
    [['/nonexistent/a.warc'], 1, /no archive to replay in \/nonexistent\/a\.warc/],
    [
      ['x.warc', '--prefix', '/p/'],
      2,
      /^wsgiprox: Unknown option '--prefix' \(see wsgiprox replay --help\)\n$/,
    ],
  ])('answers %j with exit code %i and a clear line', async (argv, code, message) => {
    const { io, err } = buffers()
    expect(await main(['replay', ...argv], io)).toBe(code)
    expect(err()).toMatch(message)
  })
})

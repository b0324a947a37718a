/**
 * `wsgiprox replay`: the banner names each collection with its page count, a damaged or missing
 * archive is one line on stderr, and a command line with nothing to replay is refused.
 */
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { main } from '../../src/cli/index'
import { REPLAY_OPTIONS, runReplay } from '../../src/cli/replay'
import { proxyGet } from '../helpers/clients'
import { readText } from '../helpers/streams'
import { tempFolder, writeWacz, writeWarc } from './helpers/archives'
import { OTHER, PAGE_HOST, SITE } from './helpers/site'

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
      /Unknown option '--prefix'.*\(see wsgiprox replay --help\)$/m,
    ],
  ])('answers %j with exit code %i and a clear line', async (argv, code, message) => {
    const { io, err } = buffers()
    expect(await main(['replay', ...argv], io)).toBe(code)
    expect(err()).toMatch(message)
  })
})

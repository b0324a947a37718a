/**
 * Opening the archives named on a command line: one file named twice, or named besides the
 * folder that holds it, is one collection, so that clients are not asked to pick between two
 * copies of it.
 */
import { execFile } from 'node:child_process'
import { constants } from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Replay } from '../../src/replay/index'
import { openReplay } from '../../src/replay/index'
import { proxyGet } from '../helpers/clients'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'
import { within } from '../helpers/within'
import { tempFolder, writeWarc } from './helpers/archives'

const run = promisify(execFile)

let closers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const close of closers.reverse()) {
    await close()
  }
  closers = []
})

describe('opening archives', () => {
  it('opens a file named twice, and besides its folder, as one collection', async () => {
    const { dir, cleanup } = await tempFolder()
    closers.push(cleanup)
    const file = await writeWarc(join(dir, 'site.warc.gz'), [
      { url: 'http://example.com/', headers: { 'Content-Type': 'text/plain' }, body: 'home' },
    ])
    const warnings: string[] = []
    const replay: Replay = await openReplay([dir, file, file], {
      onWarning: (line) => warnings.push(line),
    })
    closers.push(() => replay.close())
    const running: RunningProxy = await startProxy(replay.app, { resolver: replay.resolver })
    closers.push(() => running.close())

    expect(replay.collections.map((c) => c.name)).toEqual(['site'])
    // One collection: no proxy login is asked for.
    const reply = await proxyGet(running.port, 'http://example.com/')
    expect(reply.status).toBe(200)
    expect(reply.body).toBe('home')
    expect(warnings).toEqual([
      `${file}: the same file as ${file}; opened once`,
      `${file}: the same file as ${file}; opened once`,
    ])
  })

  it("counts one capture and one page in the singular on the proxy host's list", async () => {
    const { dir, cleanup } = await tempFolder()
    closers.push(cleanup)
    await writeWarc(join(dir, 'site.warc'), [
      { url: 'http://example.com/', headers: { 'Content-Type': 'text/html' }, body: '<p>home' },
    ])
    const replay = await openReplay([dir])
    closers.push(() => replay.close())
    const running = await startProxy(replay.app, { resolver: replay.resolver })
    closers.push(() => running.close())

    const home = await proxyGet(running.port, 'http://wsgiprox/')
    expect(home.body).toContain(`${join(dir, 'site.warc')}: 1 capture, 1 page</small>`)
  })

  it('skips a FIFO with a warning instead of waiting for a writer, named or in a folder', async () => {
    const { dir, cleanup } = await tempFolder()
    closers.push(cleanup)
    await writeWarc(join(dir, 'site.warc'), [
      { url: 'http://example.com/', headers: { 'Content-Type': 'text/plain' }, body: 'home' },
    ])
    const fifo = join(dir, 'planted.warc')
    await run('mkfifo', [fifo])
    closers.push(async () => {
      // Lets an open blocked on the FIFO (without the fix) go, so the worker is not left stuck.
      const handle = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).catch(() => null)
      await handle?.close()
    })
    const warnings: string[] = []
    const replay = await within(
      openReplay([dir], { onWarning: (line) => warnings.push(line) }),
      'opening a folder with a FIFO hung'
    )
    closers.push(() => replay.close())
    expect(replay.collections.map((c) => c.name)).toEqual(['site'])
    expect(warnings).toEqual([`${fifo}: not a regular file (a FIFO, socket or device)`])
    await expect(within(openReplay([fifo]), 'opening a FIFO hung')).rejects.toThrow(
      `no archive to replay in ${fifo}`
    )
  })
})

/**
 * A site recorded as a crawler records it, replayed through `wsgiprox replay` (the CLI, as an
 * archivist runs it) in headless Chromium, the CA pinned by its key: every request the page makes
 * is answered from the archive, and the page renders (its web font loaded, its images decoded,
 * the JSON its script fetched with a cache-buster shown, the cookie it set readable).
 */
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { spkiSha256 } from '../../src/testing/ca-pin'
import { BROWSER_TEST_TIMEOUT_MS, launchChromium, tempDir } from '../helpers/browsers'
import { startListening, TSX_IMPORT } from '../helpers/spawn'
import { afterEachTest, writeWacz, writeWarc } from './helpers/archives'
import { CLIP, CRAWL, CRAWL_PAGES } from './helpers/crawled-site'

const CLI = resolve(import.meta.dirname, '../../src/cli/index.ts')
const { defer, folder } = afterEachTest()

const SITE_HOSTS = /^https?:\/\/(www\.)?example\.org\/|^https:\/\/(widgets|static)\.example\.net\//

/** Each answer the page got from a site host: status, and whether it came from the archive. */
interface Answer {
  url: string
  status: number
  archived: boolean
}

async function replayInChromium(archive: string) {
  const dir = await folder()
  const ca = join(dir, 'ca.pem')
  const running = await startListening(
    ['--import', TSX_IMPORT, CLI, 'replay', archive, '--port', '0', '--ca-file', ca, '--quiet'],
    { cwd: dir }
  )
  defer(() => running.stop())
  const home = await tempDir('wsgiprox-crawl-chromium-')
  defer(() => home.remove())
  // No NSS database: the CA is trusted by its key alone, as `chromiumArgs` pins it.
  const pin = `--ignore-certificate-errors-spki-list=${spkiSha256(await readFile(ca, 'utf8'))}`
  const context = await launchChromium(home.path, running.port, 'http', [pin])
  defer(() => context.close())
  const page = context.pages()[0] ?? (await context.newPage())
  const answers: Answer[] = []
  page.on('response', (response) => {
    if (SITE_HOSTS.test(response.url())) {
      const archived = response.headers()['memento-datetime'] !== undefined
      answers.push({ url: response.url(), status: response.status(), archived })
    }
  })
  const failed: string[] = []
  page.on('requestfailed', (request) => {
    failed.push(`${request.url()} ${request.failure()?.errorText ?? ''}`)
  })
  return { page, answers, failed, output: () => running.output() }
}

describe('a crawled site in Chromium through wsgiprox replay', () => {
  it.each(['site.warc.gz', 'site.wacz'])(
    'renders %s with every request answered from the archive',
    { timeout: BROWSER_TEST_TIMEOUT_MS },
    async (name) => {
      const file = join(await folder(), name)
      await (name.endsWith('.wacz')
        ? writeWacz(file, CRAWL, { pages: CRAWL_PAGES })
        : writeWarc(file, CRAWL, true))
      const { page, answers, failed, output } = await replayInChromium(file)

      const response = await page.goto('http://example.org/')
      expect(response?.status()).toBe(200)
      // At the origin it was captured at, which the font's CORS answer names.
      expect(page.url()).toBe('https://www.example.org/')
      expect(await page.title()).toBe('Example crawl')

      await page.waitForFunction(() => document.getElementById('data')?.textContent !== 'pending')
      expect(await page.textContent('#data')).toBe('data from the crawl')
      // The cookie's captured Expires is long past: it was sent as a session cookie.
      expect(await page.textContent('#cookie')).toBe('visitor=archived')

      const font = await page.evaluate(async () => {
        await document.fonts.ready
        return [...document.fonts].map((face) => `${face.family} ${face.status}`)
      })
      expect(font).toEqual(['Archived loaded'])
      await page.waitForFunction(() =>
        [...document.images].every((img) => img.complete && img.naturalWidth > 0)
      )
      expect(await page.$eval('#logo', (img: HTMLImageElement) => img.naturalWidth)).toBe(40)
      const widget = page.frames().find((frame) => frame.url().includes('widgets.example.net'))
      expect(await widget?.textContent('#w')).toBe('archived widget')

      // The video's first range is asked for and answered from its captured part.
      await page.waitForFunction(
        () => (document.getElementById('clip') as HTMLVideoElement).networkState !== 0
      )
      await expect
        .poll(() => answers.filter((a) => a.url.endsWith('/media/clip.webm')).length)
        .toBeGreaterThan(0)
      const clip = answers.find((a) => a.url.endsWith('/media/clip.webm'))
      expect(clip).toMatchObject({ status: 206, archived: true })
      // Its first captured part (of two) answers the player's first range.
      const first = await page.evaluate(async () => {
        const r = await fetch('/media/clip.webm', { headers: { Range: 'bytes=0-' } })
        return `${r.status} ${r.headers.get('content-range')} ${(await r.arrayBuffer()).byteLength}`
      })
      expect(first).toBe(`206 bytes 0-${CLIP.length / 2 - 1}/${CLIP.length} ${CLIP.length / 2}`)

      // Every request the page made was answered from the archive: none fell through.
      const notArchived = answers.filter((a) => !a.archived)
      expect(notArchived.map((a) => a.url)).toEqual([])
      const urls = answers.map((a) => `${a.status} ${a.url.replace(/\?_=\d+$/, '?_=<now>')}`)
      expect(urls).toEqual(
        expect.arrayContaining([
          '301 http://example.org/',
          '301 https://example.org/',
          '200 https://www.example.org/',
          '200 https://www.example.org/css/site.css',
          '404 https://www.example.org/js/missing.js',
          '200 https://www.example.org/img/logo-1x.png',
          '200 https://www.example.org/img/bg.png',
          '200 https://static.example.net/fonts/archived.ttf',
          '200 https://www.example.org/api/data.json?_=<now>',
          '200 https://widgets.example.net/embed.html',
        ])
      )
      // Chromium stops reading a script captured as a 404, and the video it cannot decode.
      expect(
        failed.filter((line) => !/(missing\.js|clip\.webm) net::ERR_ABORTED$/.test(line))
      ).toEqual([])
      expect(output()).not.toMatch(/warning/)
    }
  )
})

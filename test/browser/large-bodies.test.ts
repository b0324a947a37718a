/**
 * A page that loads many large files at once over HTTP/2, as a photo gallery does: every one of
 * them arrives whole, whether the app gives it as one buffer or streams it in large chunks.
 */
import { Hono } from 'hono'
import {
  BROWSER_TEST_TIMEOUT_MS,
  chromiumOnProxy,
  failedRequests,
  pageProtocol,
  useBrowserTestProxy,
} from '../helpers/browsers'
import { missing } from '../helpers/tools'

const SITE = 'photos.example'
const MB = 1024 * 1024
/** Files the page asks for at once, and the size of each: together far past 10 MB. */
const FILES = 12
const SIZE = 6 * MB
/** The chunks of the streamed files: a few of them, waiting, already pass 10 MB. */
const CHUNK = 2 * MB

const site = () =>
  new Hono()
    .get('/', (c) => c.html('<!doctype html><title>gallery</title><p>gallery</p>'))
    // One buffer, written whole by node-server unless the proxy slices it.
    .get('/whole/:n', (c) =>
      c.body(new Uint8Array(SIZE).fill(Number(c.req.param('n'))), 200, {
        'content-type': 'application/octet-stream',
      })
    )
    // A Blob, which node-server reads whole into one buffer unless the proxy slices it.
    .get(
      '/blob/:n',
      (c) =>
        new Response(new Blob([new Uint8Array(SIZE).fill(Number(c.req.param('n')))]), {
          headers: { 'content-type': 'application/octet-stream' },
        })
    )
    // A stream of large chunks, each written whole unless the proxy slices it.
    .get('/chunks/:n', (c) => {
      let left = SIZE / CHUNK
      const stream = new ReadableStream<Uint8Array>(
        {
          pull(controller) {
            if (left-- === 0) {
              controller.close()
              return
            }
            controller.enqueue(new Uint8Array(CHUNK).fill(Number(c.req.param('n'))))
          },
        },
        { highWaterMark: 0 }
      )
      return c.body(stream, 200, { 'content-type': 'application/octet-stream' })
    })

const setup = useBrowserTestProxy(site, { proxyApps: { [SITE]: site() } })

describe.skipIf(missing('chromium', 'certutil'))(
  'chromium loading large files at once',
  { timeout: BROWSER_TEST_TIMEOUT_MS },
  () => {
    it.each(['whole', 'blob', 'chunks'])(
      'gets every file over h2 when the app sends each %s',
      async (kind) => {
        const { page } = await chromiumOnProxy(setup)
        const failed = failedRequests(page)
        await page.goto(`https://${SITE}/`)
        const got = await page.evaluate(
          async ([kind, files]) => {
            const read = async (n: number, response: Promise<Response>) => {
              try {
                const bytes = new Uint8Array(await (await response).arrayBuffer())
                // The size, and whether every byte is the file's own.
                return `${String(bytes.byteLength)} ${String(bytes.every((b) => b === n))}`
              } catch (error) {
                return String(error)
              }
            }
            // Half the files first; the rest once those have begun to arrive, as a page finds
            // its images while it loads: those streams open while the first bodies are queued.
            const half = files / 2
            const first = Array.from({ length: half }, (_, i) => fetch(`/${kind}/${String(i + 1)}`))
            await Promise.allSettled(first)
            const rest = Array.from({ length: half }, (_, i) =>
              fetch(`/${kind}/${String(half + i + 1)}`)
            )
            return Promise.all([...first, ...rest].map((response, i) => read(i + 1, response)))
          },
          [kind, FILES] as const
        )
        expect(got).toEqual(Array.from({ length: FILES }, () => `${String(SIZE)} true`))
        expect(failed).toEqual([])
        // A body the app gave whole keeps the length node-server states for it.
        const length = await page.evaluate(
          async (path) => (await fetch(path)).headers.get('content-length'),
          `/${kind}/1`
        )
        expect(length).toBe(kind === 'chunks' ? null : String(SIZE))
        expect(await pageProtocol(page)).toBe('h2')
      }
    )
  }
)

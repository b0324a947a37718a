/**
 * Chromium pages that hold a response open for seconds, as real sites do: a Server-Sent Events
 * feed beside a chat WebSocket. The page sees each event when the app sends it, and nothing cuts
 * the feed, however many tunnels the browser has open.
 */
import { upgradeWebSocket } from '@hono/node-server'
import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import {
  BROWSER_TEST_TIMEOUT_MS,
  chromiumOnProxy,
  failedRequests,
  pageProtocol,
  useBrowserTestProxy,
} from '../helpers/browsers'
import { missing } from '../helpers/tools'

const SITE = 'a.example'
/** Events of the feed, one every {@link EVERY_MS}: longer in all than any grace a proxy gives. */
const EVENTS = 15
const EVERY_MS = 200

const site = () =>
  new Hono()
    .get('/', (c) => c.html('<!doctype html><title>feed</title><p>feed</p>'))
    .get('/feed', (c) =>
      streamSSE(c, async (sse) => {
        for (let i = 0; i < EVENTS; i++) {
          await sse.writeSSE({ data: String(i) })
          await sse.sleep(EVERY_MS)
        }
      })
    )
    .get(
      '/chat',
      upgradeWebSocket(() => ({
        onMessage: (event, ws) => {
          ws.send(event.data as string)
        },
      }))
    )

/** What the page saw of the feed: each event and when it came (ms after the first), or the error. */
interface Feed {
  events: string[]
  at: number[]
  error?: string
}

// keepaliveMax 1: the page's h2 tunnel and the chat's tunnel are already more than the budget,
// as 50 sockets across a few tabs are with the default.
const setup = useBrowserTestProxy(site, { proxyApps: { [SITE]: site() }, keepaliveMax: 1 })

describe.skipIf(missing('chromium', 'certutil'))(
  'chromium with long responses',
  { timeout: BROWSER_TEST_TIMEOUT_MS },
  () => {
    it('gets every event of an h2 event stream when sent, past the tunnel budget', async () => {
      const { page } = await chromiumOnProxy(setup)
      const failed = failedRequests(page)
      await page.goto(`https://${SITE}/`)
      const chat = await page.evaluate(
        (url) =>
          new Promise<string>((resolve) => {
            const ws = new WebSocket(url)
            ;(window as unknown as { chat: WebSocket }).chat = ws
            ws.onopen = () => {
              ws.send('hello')
            }
            ws.onmessage = (event) => {
              resolve(event.data as string)
            }
            ws.onerror = () => {
              resolve('websocket error')
            }
          }),
        `wss://${SITE}/chat`
      )
      expect(chat).toBe('hello')
      const feed = await page.evaluate(
        (count) =>
          new Promise<Feed>((resolve) => {
            const events: string[] = []
            const at: number[] = []
            const source = new EventSource('/feed')
            source.onmessage = (event) => {
              events.push(event.data as string)
              at.push(Math.round(performance.now()))
              if (events.length === count) {
                source.close()
                resolve({ events, at: at.map((t) => t - (at[0] ?? 0)) })
              }
            }
            source.onerror = () => {
              source.close()
              resolve({ events, at, error: 'the event stream failed' })
            }
          }),
        EVENTS
      )
      expect(feed.error, `after ${String(feed.events.length)} events`).toBeUndefined()
      expect(feed.events).toEqual(Array.from({ length: EVENTS }, (_, i) => String(i)))
      // Each event when sent, not all at the end: the last comes about 14 periods after the first.
      expect(feed.at.at(-1)).toBeGreaterThan((EVENTS - 2) * EVERY_MS)
      expect(feed.at[1]).toBeLessThan(3 * EVERY_MS)
      expect(await pageProtocol(page)).toBe('h2')
      expect(failed.filter((line) => !line.endsWith('/feed net::ERR_ABORTED'))).toEqual([])
    })
  }
)

/**
 * Chromium through the proxy over HTTP/2: the https page arrives over h2, and its wss socket,
 * which browsers open over a separate HTTP/1.1 tunnel when the h2 connection does not offer
 * extended CONNECT, still echoes.
 */
import { PAGE_HOST, expectedResults } from '../helpers/browser-app'
import type { PageResults } from '../helpers/browser-app'
import {
  BROWSER_TEST_TIMEOUT_MS,
  chromiumOnProxy,
  pageProtocol,
  useBrowserTestProxy,
} from '../helpers/browsers'
import { missing } from '../helpers/tools'

const setup = useBrowserTestProxy()

describe.skipIf(missing('chromium', 'certutil'))(
  'chromium over HTTP/2',
  { timeout: BROWSER_TEST_TIMEOUT_MS },
  () => {
    it('loads an https page over h2, and its WebSocket still echoes', async () => {
      const { page } = await chromiumOnProxy(setup)
      await page.goto(`https://${PAGE_HOST}/`)
      expect(await pageProtocol(page)).toBe('h2')
      const results = await page.evaluate(
        () => (window as unknown as { results: Promise<PageResults> }).results
      )
      expect(results).toEqual(expectedResults('https'))
    })
  }
)

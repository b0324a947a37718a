/**
 * Browsers pointed at the proxy the other ways: Chromium through SOCKS5 and through the PAC file,
 * Firefox through SOCKS5 set in its profile prefs. The CA is trusted in their NSS stores and
 * certificate errors are never ignored, so each https page proves the whole path.
 */
import { PAGE_HOST, expectedResults } from '../helpers/browser-app'
import type { PageResults } from '../helpers/browser-app'
import {
  BROWSER_TEST_TIMEOUT_MS,
  chromiumOnProxy,
  expectScreenshot,
  nssDatabase,
  tempDir,
  useBrowserTestProxy,
} from '../helpers/browsers'
import type { ProxySetting } from '../helpers/browsers'
import { launchFirefox } from '../helpers/firefox'
import { missing } from '../helpers/tools'

const setup = useBrowserTestProxy()
const { running, defer } = setup

describe.skipIf(missing('chromium', 'certutil'))(
  'chromium through socks5 and the pac file',
  { timeout: BROWSER_TEST_TIMEOUT_MS },
  () => {
    it.each<[string, ProxySetting]>([
      ['--proxy-server=socks5://', 'socks5'],
      ['--proxy-pac-url', 'pac'],
    ])('loads an https page and its wss socket with %s', async (_flag, setting) => {
      const { page } = await chromiumOnProxy(setup, { setting })
      const response = await page.goto(`https://${PAGE_HOST}/`)
      expect(response?.status()).toBe(200)
      const results = await page.evaluate(
        () => (window as unknown as { results: Promise<PageResults> }).results
      )
      expect(results).toEqual(expectedResults('https'))
      await expectScreenshot(await page.screenshot({ fullPage: true }), `chromium-${setting}.png`)
    })
  }
)

describe.skipIf(missing('firefox-esr', 'certutil'))(
  'firefox through socks5',
  { timeout: BROWSER_TEST_TIMEOUT_MS },
  () => {
    it('loads an https page and its wss socket with SOCKS5 set in the profile prefs', async () => {
      const profile = await tempDir('wsgiprox-firefox-')
      defer(() => profile.remove())
      await nssDatabase(profile.path, running().caPem)
      const firefox = await launchFirefox(profile.path, running().port, 'socks5')
      defer(() => firefox.close())
      await firefox.navigate(`https://${PAGE_HOST}/`)
      expect(await firefox.evaluate('window.results')).toEqual(expectedResults('https'))
      await expectScreenshot(await firefox.screenshot(), 'firefox-socks5.png')
    })
  }
)

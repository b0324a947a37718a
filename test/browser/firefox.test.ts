/**
 * Debian's Firefox ESR through the proxy, headless over WebDriver BiDi, with the proxy set in the
 * profile's prefs and the CA imported into the profile's own NSS store (cert9.db), as the
 * landing page tells a Firefox user. Certificate errors are not accepted (acceptInsecureCerts is
 * false), so a page that loads over https proves Firefox trusted the CA.
 */
import { TRUST_MESSAGES } from '../../src/pages/landing'
import { PAGE_HOST, expectedResults } from '../helpers/browser-app'
import {
  BROWSER_TEST_TIMEOUT_MS,
  expectScreenshot,
  nssDatabase,
  tempDir,
  useBrowserTestProxy,
} from '../helpers/browsers'
import { launchFirefox } from '../helpers/firefox'
import type { Firefox } from '../helpers/firefox'
import { missing } from '../helpers/tools'

const { running, defer } = useBrowserTestProxy()

/** Firefox on a new profile whose store trusts the proxy's CA unless `trusted` is false. */
async function browser({ trusted = true } = {}): Promise<Firefox> {
  const profile = await tempDir('wsgiprox-firefox-')
  defer(() => profile.remove())
  await nssDatabase(profile.path, trusted ? running().caPem : undefined)
  const firefox = await launchFirefox(profile.path, running().port)
  defer(() => firefox.close())
  return firefox
}

/** Resolves once the landing page's self-check has a state: observed, not polled. */
const TRUST_CHECK = `new Promise((resolve) => {
  const status = document.getElementById('trust-check')
  const done = () => status.dataset.state && resolve({ state: status.dataset.state, text: status.textContent })
  new MutationObserver(done).observe(status, { attributes: true })
  done()
})`

describe.skipIf(missing('firefox-esr', 'certutil'))(
  'firefox',
  { timeout: BROWSER_TEST_TIMEOUT_MS },
  () => {
    it('loads an https page whose wss socket, images and fetch from other hosts are served', async () => {
      const firefox = await browser()
      await firefox.navigate(`https://${PAGE_HOST}/`)
      expect(await firefox.evaluate('window.results')).toEqual(expectedResults('https'))
      expect(await firefox.evaluate('document.title')).toBe('Loaded: https test page')
      await expectScreenshot(await firefox.screenshot(), 'firefox-https-page.png')
    })

    it('shows the fingerprint on the landing page and says the CA is trusted', async () => {
      const firefox = await browser()
      await firefox.navigate('http://wsgiprox/download/')
      expect(await firefox.evaluate("document.getElementById('fingerprint').textContent")).toBe(
        running().ca.fingerprint256
      )
      expect(await firefox.evaluate(TRUST_CHECK)).toEqual({
        state: 'trusted',
        text: TRUST_MESSAGES.trusted,
      })
      await expectScreenshot(await firefox.screenshot(), 'firefox-landing.png')
    })

    it('refuses https pages and says the CA is not trusted in a profile without it', async () => {
      const firefox = await browser({ trusted: false })
      await expect(firefox.navigate(`https://${PAGE_HOST}/`)).rejects.toThrow(
        /SEC_ERROR_UNKNOWN_ISSUER/
      )
      await firefox.navigate('http://wsgiprox/download/')
      expect(await firefox.evaluate(TRUST_CHECK)).toEqual({
        state: 'untrusted',
        text: TRUST_MESSAGES.untrusted,
      })
    })
  }
)

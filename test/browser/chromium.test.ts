/**
 * Debian's Chromium through the proxy, trusting the CA the way the landing page tells a Linux
 * user to: an NSS database in $HOME/.pki/nssdb made with certutil. Certificate errors are never
 * ignored, so every https load here proves the CA and the host certificates are accepted.
 */
import type { Page } from 'playwright-core'
import { readFile } from 'node:fs/promises'
import { TRUST_MESSAGES } from '../../src/pages/landing'
import { CA_FILES } from '../../src/pages/landing-steps'
import { PAGE_HOST, expectedResults } from '../helpers/browser-app'
import type { PageResults } from '../helpers/browser-app'
import {
  BROWSER_TEST_TIMEOUT_MS,
  chromiumOnProxy,
  expectScreenshot,
  useBrowserTestProxy,
} from '../helpers/browsers'
import { opensslFingerprint256, opensslOk } from '../helpers/openssl'
import { missing } from '../helpers/tools'

const setup = useBrowserTestProxy()
const { running } = setup

/** A Chromium whose HOME has an NSS database, trusting the proxy's CA unless `trusted` is false. */
const browser = ({ trusted = true } = {}) => chromiumOnProxy(setup, { trusted })

const screenshot = async (page: Page, name: string) =>
  expectScreenshot(await page.screenshot({ fullPage: true }), name)

/** What the test page's script reported, once every part loaded or failed. */
const pageResults = (page: Page) =>
  page.evaluate(() => (window as unknown as { results: Promise<PageResults> }).results)

/** What the landing page's self-check concluded. */
async function trustCheck(page: Page) {
  const status = page.locator('#trust-check[data-state]')
  await status.waitFor()
  return { state: await status.getAttribute('data-state'), text: await status.textContent() }
}

/** Each download, its content type, and how openssl turns it back into the PEM certificate. */
const DOWNLOADS = [
  { kind: 'pem', type: 'application/x-x509-ca-cert', toPem: ['x509'] },
  { kind: 'cer', type: 'application/pkix-cert', toPem: ['x509', '-inform', 'DER'] },
  { kind: 'p12', type: 'application/x-pkcs12', toPem: ['pkcs12', '-passin', 'pass:', '-nokeys'] },
] as const

describe.skipIf(missing('chromium', 'certutil', 'openssl'))(
  'chromium',
  { timeout: BROWSER_TEST_TIMEOUT_MS },
  () => {
    it('loads an https page whose wss socket, images and fetch from other hosts are served', async () => {
      const { page } = await browser()
      const response = await page.goto(`https://${PAGE_HOST}/`)
      expect(response?.status()).toBe(200)
      expect(await pageResults(page)).toEqual(expectedResults('https'))
      expect(await page.title()).toBe('Loaded: https test page')
      expect(await page.textContent('#heading')).toBe(`Served by the app at https://${PAGE_HOST}/`)
      await screenshot(page, 'chromium-https-page.png')
    })

    it('loads an http page and its ws socket through the proxy', async () => {
      const { page } = await browser()
      await page.goto(`http://${PAGE_HOST}/plain`)
      expect(await pageResults(page)).toEqual(expectedResults('http'))
    })

    it('shows the fingerprint on the landing page and says the CA is trusted', async () => {
      const { page } = await browser()
      await page.goto('http://wsgiprox/download/')
      expect(await page.textContent('#fingerprint')).toBe(running().ca.fingerprint256)
      expect(await page.textContent('#ca-name')).toBe(running().ca.name)
      expect(await trustCheck(page)).toEqual({ state: 'trusted', text: TRUST_MESSAGES.trusted })
      await screenshot(page, 'chromium-landing.png')

      await page.goto('https://wsgiprox/download/')
      expect(await trustCheck(page)).toEqual({ state: 'trusted', text: TRUST_MESSAGES.trusted })
    })

    it('says the CA is not trusted in a profile without it, and refuses https pages', async () => {
      const { page } = await browser({ trusted: false })
      await page.goto('http://wsgiprox/download/')
      expect(await trustCheck(page)).toEqual({ state: 'untrusted', text: TRUST_MESSAGES.untrusted })
      await screenshot(page, 'chromium-landing-untrusted.png')
      await expect(page.goto(`https://${PAGE_HOST}/`)).rejects.toThrow(/ERR_CERT_AUTHORITY_INVALID/)
    })

    it('downloads PEM, PKCS#12 and DER with their content types, which openssl reads', async () => {
      const { page } = await browser()
      await page.goto('http://wsgiprox/download/')
      for (const { kind, type, toPem } of DOWNLOADS) {
        // Clicked as a user would; the content type is read with a fetch through the same browser.
        const [download] = await Promise.all([
          page.waitForEvent('download'),
          page.click(`#download-${kind}`),
        ])
        expect(download.suggestedFilename()).toBe(CA_FILES[kind])
        const served = await page.evaluate(
          async (path) => (await fetch(path)).headers.get('content-type'),
          `/download/${kind}`
        )
        expect(served).toBe(type)
        const bytes = await readFile(await download.path())
        const pem = await opensslOk([...toPem], { input: bytes })
        expect(await opensslFingerprint256(pem.stdout)).toBe(running().ca.fingerprint256)
        expect(pem.stdout).not.toMatch(/PRIVATE KEY/)
      }
    })
  }
)

/**
 * What `chromiumArgs` does and does not do: with them Chromium loads https pages of the proxy's
 * CA; without the pin, or pinned to another CA, it refuses them, so verification stays on.
 * (examples/testing-chromium.test.ts covers the page, wss and a Web Worker.)
 */
import { chromium } from 'playwright-core'
import { startProxy } from '../../src/testing/start-proxy'
import type { TestProxy } from '../../src/testing/start-proxy'
import { missing, toolPath } from '../helpers/tools'

let proxy: TestProxy
beforeAll(async () => {
  proxy = await startProxy(
    () => new Response('<title>faked</title>', { headers: { 'content-type': 'text/html' } })
  )
})
afterAll(async () => {
  await proxy.close()
})

/** The title of https://www.example.com/ in a Chromium launched with `args`, or the error. */
async function titleWith(args: string[]): Promise<string> {
  const browser = await chromium.launch({ executablePath: toolPath('chromium'), args })
  try {
    const page = await browser.newPage()
    await page.goto('https://www.example.com/')
    return await page.title()
  } catch (error) {
    return (error as Error).message
  } finally {
    await browser.close()
  }
}

describe.skipIf(missing('chromium'))('chromiumArgs', { timeout: 60_000 }, () => {
  it('are the proxy server and the pin of the CA key, and nothing that turns checks off', () => {
    expect(proxy.chromiumArgs).toEqual([
      `--proxy-server=${proxy.url}`,
      `--ignore-certificate-errors-spki-list=${proxy.ca.spki}`,
    ])
  })

  it('let chromium load an https page the proxy signs', async () => {
    expect(await titleWith(proxy.chromiumArgs)).toBe('faked')
  })

  it('are a new array on each read, which a test may add its own flags to', () => {
    const args = proxy.chromiumArgs
    args.push('--lang=fr')
    expect(proxy.chromiumArgs).toHaveLength(2)
  })

  it('leave chromium refusing the certificate without the pin', async () => {
    expect(await titleWith([`--proxy-server=${proxy.url}`])).toMatch(/ERR_CERT_AUTHORITY_INVALID/)
  })

  it('leave chromium refusing the certificate when the pin is of another CA', async () => {
    const other = await startProxy(() => new Response('other'))
    try {
      const pinned = `--ignore-certificate-errors-spki-list=${other.ca.spki}`
      expect(await titleWith([`--proxy-server=${proxy.url}`, pinned])).toMatch(
        /ERR_CERT_AUTHORITY_INVALID/
      )
    } finally {
      await other.close()
    }
  })
})

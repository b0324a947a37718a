/**
 * Firefox has no argument that trusts a CA: a profile whose NSS store holds `ca.file`, made with
 * certutil as docs/testing.md shows, is what it takes; with it Firefox loads the faked https
 * site, certificate errors not accepted.
 */
import { startProxy } from '../../src/testing/start-proxy'
import type { TestProxy } from '../../src/testing/start-proxy'
import { nssDatabase, tempDir } from '../helpers/browsers'
import { launchFirefox } from '../helpers/firefox'
import { missing } from '../helpers/tools'

let proxy: TestProxy | undefined
afterEach(async () => {
  await proxy?.close()
})

describe.skipIf(missing('firefox-esr', 'certutil'))(
  'firefox with a generated profile',
  { timeout: 60_000 },
  () => {
    it('loads a faked https page with the CA in its profile', async () => {
      proxy = await startProxy(
        () => new Response('<title>faked</title>', { headers: { 'content-type': 'text/html' } })
      )
      const profile = await tempDir('wsgiprox-firefox-')
      try {
        await nssDatabase(profile.path, proxy.ca.pem)
        const firefox = await launchFirefox(profile.path, proxy.port)
        try {
          await firefox.navigate('https://www.example.com/')
          expect(await firefox.evaluate('document.title')).toBe('faked')
        } finally {
          await firefox.close()
        }
      } finally {
        await profile.remove()
      }
    })
  }
)

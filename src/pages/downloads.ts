/**
 * The certificate download app on the download host: the CA certificate as PEM, PKCS#12 and
 * DER, the landing page, and the https check the page runs. Never the private key.
 * @module
 */
import type { HttpBindings } from '@hono/node-server'
import { Hono } from 'hono'
import type { IncomingMessage } from 'node:http'
import { PROXY_HOST_HEADER } from '../app/rewrite'
import type { CertificateAuthority } from '../ca/authority'
import { landingPage } from './landing'
import type { LandingContext } from './landing'
import { CA_FILES } from './landing-steps'

/** The env @hono/node-server passes; absent when the proxy runs as a bare fetch handler. */
interface Env {
  Bindings: Partial<HttpBindings> | undefined
}

const attachment = (name: string) => `attachment; filename="${name}"`

/** The download app; unmatched paths fall through to the main app. */
export function createDownloadApp(
  getCa: () => Promise<CertificateAuthority>,
  ways: LandingContext['ways'] = { socks: false, pac: false }
): Hono<Env> {
  const app = new Hono<Env>()
  app.get('/download/pem', async (c) => {
    const ca = await getCa()
    return c.body(ca.certPem, 200, {
      'content-type': 'application/x-x509-ca-cert',
      'content-disposition': attachment(CA_FILES.pem),
    })
  })
  app.get('/download/p12', async (c) => {
    const ca = await getCa()
    return c.body(new Uint8Array(await ca.toP12()), 200, {
      'content-type': 'application/x-pkcs12',
      'content-disposition': attachment(CA_FILES.p12),
    })
  })
  app.get('/download/cer', async (c) => {
    const ca = await getCa()
    return c.body(new Uint8Array(ca.certDer), 200, {
      'content-type': 'application/pkix-cert',
      'content-disposition': attachment(CA_FILES.cer),
    })
  })
  // The landing page's trust check: over https this answer arrives only when the client
  // trusts the CA. CORS, so that the page loaded over plain http may read it.
  app.get('/download/check', async (c) => {
    const ca = await getCa()
    const secure = new URL(c.req.url).protocol === 'https:'
    return c.json({ secure, ca: ca.name, fingerprint256: ca.fingerprint256 }, 200, {
      'access-control-allow-origin': '*',
      'cache-control': 'no-store',
    })
  })
  app.get('/download/', async (c) => {
    const where: LandingContext = {
      downloadHost: c.req.header(PROXY_HOST_HEADER) ?? new URL(c.req.url).hostname,
      proxy: proxyAddress(c.env?.incoming),
      ways,
    }
    // A string, not Hono's String object: node-server gives a string body its Content-Length.
    const page = String(await landingPage(await getCa(), where))
    return c.html(page, 200, { 'cache-control': 'no-store' })
  })
  app.get('/download', (c) => c.redirect('/download/', 301))
  return app
}

/**
 * The address the client connected to, which is the proxy's address as that client knows it
 * (inside a tunnel too: the TLS socket reports its TCP socket's address).
 */
function proxyAddress(incoming: IncomingMessage | undefined): LandingContext['proxy'] {
  const socket = incoming?.socket
  const host = socket?.localAddress
  const port = socket?.localPort
  return host === undefined || port === undefined ? undefined : { host, port }
}

/**
 * The certificate download app on the download host: the CA certificate as PEM, PKCS#12 and
 * DER, and a landing page. Never the private key.
 * @module
 */
import { Hono } from 'hono'
import type { CertificateAuthority } from './ca/authority'
import { landingPage } from './landing'

/** The download app; unmatched paths fall through to the main app. */
export function createDownloadApp(getCa: () => Promise<CertificateAuthority>): Hono {
  const app = new Hono()
  app.get('/download/pem', async (c) => {
    const ca = await getCa()
    return c.body(ca.certPem, 200, {
      'content-type': 'application/x-x509-ca-cert',
      'content-disposition': 'attachment; filename="wsgiprox-ca.pem"',
    })
  })
  app.get('/download/p12', async (c) => {
    const ca = await getCa()
    return c.body(new Uint8Array(ca.toP12()), 200, {
      'content-type': 'application/x-pkcs12',
      'content-disposition': 'attachment; filename="wsgiprox-ca.p12"',
    })
  })
  app.get('/download/cer', async (c) => {
    const ca = await getCa()
    return c.body(new Uint8Array(ca.certDer), 200, {
      'content-type': 'application/pkix-cert',
      'content-disposition': 'attachment; filename="wsgiprox-ca.cer"',
    })
  })
  app.get('/download/', async (c) => c.html(landingPage(await getCa(), new URL(c.req.url))))
  app.get('/download', (c) => c.redirect('/download/', 301))
  return app
}

/**
 * The landing page on the download host: what the CA is and how to trust it.
 * @module
 */
import { html } from 'hono/html'
import type { CertificateAuthority } from './ca/authority'

/** Render the landing page for `ca`, as served at `url`. */
export function landingPage(ca: CertificateAuthority, url: URL) {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>${ca.name}</title>
      </head>
      <body>
        <h1>${ca.name}</h1>
        <p>
          This proxy answers requests with a local app. To see HTTPS sites through it, trust its CA.
        </p>
        <dl>
          <dt>SHA-256 fingerprint</dt>
          <dd id="fingerprint">${ca.fingerprint256}</dd>
          <dt>Valid</dt>
          <dd>${ca.validFrom.toISOString()} to ${ca.validTo.toISOString()}</dd>
        </dl>
        <ul>
          <li><a href="/download/pem">PEM</a></li>
          <li><a href="/download/p12">PKCS#12</a></li>
          <li><a href="/download/cer">DER</a></li>
        </ul>
        <p>Served at ${url.host}.</p>
      </body>
    </html>`
}

/**
 * The built-in demo app: a page that shows what the app received, so a new user sees at once
 * what the proxy did to a request.
 * @module
 */
import { Hono } from 'hono'
import { html } from 'hono/html'
import { PROXY_HOST_HEADER } from '../translate'

/** A Hono app answering every request with what it received (HTML, or JSON on `?format=json`). */
export function createDemoApp(): Hono {
  const app = new Hono()
  app.all('*', (c) => {
    const url = new URL(c.req.url)
    const received = {
      method: c.req.method,
      url: url.pathname + url.search,
      proxyHost: c.req.header(PROXY_HOST_HEADER) ?? null,
      headers: Object.fromEntries(c.req.raw.headers),
    }
    if (c.req.query('format') === 'json' || c.req.header('accept') === 'application/json') {
      return c.json(received)
    }
    const rows = Object.entries(received.headers).map(
      ([name, value]) =>
        html`<tr>
          <th>${name}</th>
          <td>${value}</td>
        </tr>`
    )
    return c.html(
      html`<!doctype html>
        <html lang="en">
          <head>
            <meta charset="utf-8" />
            <title>wsgiprox demo</title>
          </head>
          <body>
            <h1>wsgiprox demo app</h1>
            <p>The proxy turned your request into this one, and this app answered it.</p>
            <dl>
              <dt>Method</dt>
              <dd id="method">${received.method}</dd>
              <dt>Translated URL (what the app sees)</dt>
              <dd id="url">${received.url}</dd>
              <dt>Proxy host (X-Wsgiprox-Proxy-Host)</dt>
              <dd id="proxy-host">${received.proxyHost ?? '(none: not a proxied request)'}</dd>
            </dl>
            <h2>Headers</h2>
            <table>
              ${rows}
            </table>
            <p>
              CA certificate and how to trust it:
              <a href="http://wsgiprox/download/">http://wsgiprox/download/</a>
            </p>
          </body>
        </html> `
    )
  })
  return app
}

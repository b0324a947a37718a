/**
 * The built-in demo app: a page that shows what the app received next to what the client asked
 * for, so a new user sees at once what the proxy did to a request.
 * @module
 */
import { Hono } from 'hono'
import { html, raw } from 'hono/html'
import { PROXY_HOST_HEADER } from '../app/rewrite'
import { PAGE_STYLE } from '../pages/landing'

/** What the demo app knows of the proxy in front of it. */
export interface DemoOptions {
  /** The prefix the default resolver puts before the full URL, `/`. */
  prefix: string
  /**
   * With `--auth-prefix`: the prefix is the proxy user name, `/<user>/`, one per request, and
   * `prefix` is not used.
   */
  userPrefix?: boolean
  /** The host serving the CA's landing page, `wsgiprox`. */
  downloadHost: string
}

/** How a request reached the app, and the URL the client asked for where it can be told. */
interface Route {
  kind: 'translated' | 'proxy-host' | 'direct'
  original: string
  /** The prefix found before the full URL of a translated request. */
  prefix: string
}

const DEMO_STYLE = `
.translation { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: 1rem; }
.translation div { border: 2px solid #8a8f98; border-radius: 4px; padding: 0.5rem 1rem; }
.translation dd { margin: 0; font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 0.25rem 0.5rem; border-bottom: 1px solid #e1e3e6; }
th { white-space: nowrap; width: 1%; }
td { font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
`

/** A Hono app answering every request with what it received (HTML, or JSON on `?format=json`). */
export function createDemoApp(options: DemoOptions): Hono {
  const app = new Hono()
  app.all('*', (c) => {
    const url = new URL(c.req.url)
    const path = url.pathname + url.search
    const proxyHost = c.req.header(PROXY_HOST_HEADER) ?? null
    const route = routeOf(path, proxyHost, url.protocol, options)
    const received = {
      method: c.req.method,
      url: path,
      original: route.original,
      route: route.kind,
      proxyHost,
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
    const download = `http://${options.downloadHost}/download/`
    return c.html(
      html`<!doctype html>
        <html lang="en">
          <head>
            <meta charset="utf-8" />
            <meta name="viewport" content="width=device-width, initial-scale=1" />
            <title>wsgiprox demo</title>
            <style>
              ${raw(PAGE_STYLE + DEMO_STYLE)}
            </style>
          </head>
          <body>
            <header>
              <h1>wsgiprox demo app</h1>
              <p>
                This app answers every request sent through the proxy. Serve your own with
                <code>wsgiprox --app ./my-app.mjs</code>.
              </p>
            </header>
            <main>
              <dl class="translation">
                <div>
                  <dt>You asked for</dt>
                  <dd id="original">${received.original}</dd>
                </div>
                <div>
                  <dt>The app received</dt>
                  <dd id="url">${received.url}</dd>
                </div>
              </dl>
              <p id="route">${EXPLANATIONS[route.kind](route.prefix)}</p>
              <dl>
                <dt>Method</dt>
                <dd id="method">${received.method}</dd>
                <dt>Proxy host (X-Wsgiprox-Proxy-Host)</dt>
                <dd id="proxy-host">${received.proxyHost ?? '(none: not a proxied request)'}</dd>
              </dl>
              <h2>Headers the app received</h2>
              <table>
                ${rows}
              </table>
              <p>
                The CA certificate and how to trust it:
                <a href="${download}">${download}</a>
              </p>
            </main>
          </body>
        </html>`
    )
  })
  return app
}

const EXPLANATIONS: Record<Route['kind'], (prefix: string) => string> = {
  translated: (prefix) =>
    `The proxy put the prefix ${prefix} before the full URL you asked for: every site is served by this one app, which can tell them apart by the path.`,
  'proxy-host': () =>
    'This host is a proxy host: the app gets the path as it was sent, untranslated, with the host in X-Wsgiprox-Proxy-Host.',
  direct: () =>
    'This request came to the proxy directly, not through it: the app gets it as it was sent, without X-Wsgiprox-Proxy-Host.',
}

/**
 * Tells the original URL back from what the app received: the default resolver gives
 * `prefix + full URL` (with `userPrefix`, the prefix is the path's first segment, the user name);
 * a proxy host keeps its path (the scheme is the one the app saw); a direct request is its own
 * path.
 */
function routeOf(
  path: string,
  proxyHost: string | null,
  protocol: string,
  options: DemoOptions
): Route {
  if (proxyHost === null) {
    return { kind: 'direct', original: path, prefix: '' }
  }
  const prefix = options.userPrefix ? (/^\/[^/]+\//.exec(path)?.[0] ?? '') : options.prefix
  const rest = path.startsWith(prefix) ? path.slice(prefix.length) : ''
  if (/^(https?|wss?):\/\//.test(rest)) {
    return { kind: 'translated', original: rest, prefix }
  }
  return { kind: 'proxy-host', original: `${protocol}//${proxyHost}${path}`, prefix: '' }
}

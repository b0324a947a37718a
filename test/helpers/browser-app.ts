/**
 * The app the browser tests load through the proxy: a page at a normal host whose script opens a
 * WebSocket back to its own host, shows images from a second intercepted host and fetches JSON
 * from a third. Everything is answered by this app; nothing leaves the machine.
 */
import { upgradeWebSocket } from '@hono/node-server'
import { Hono } from 'hono'
import { html, raw } from 'hono/html'

export const PAGE_HOST = 'www.example.com'
export const IMAGE_HOST = 'images.example.net'
export const API_HOST = 'api.example.org'

/** What the page's script reports once every part has loaded or failed. */
export interface PageResults {
  websocket: string
  images: string[]
  fetch: string
}

/** What the page reports when everything it loads over `scheme` was served. */
export function expectedResults(scheme: 'http' | 'https'): PageResults {
  const ws = scheme === 'https' ? 'wss' : 'ws'
  return {
    websocket: `${ws}://${PAGE_HOST}/socket echo ping from ${scheme}://${PAGE_HOST}`,
    images: [`${scheme}://${IMAGE_HOST}/one.svg`, `${scheme}://${IMAGE_HOST}/two.svg`],
    fetch: `api answered over ${scheme}:`,
  }
}

// Each part settles, loaded or failed, so the test awaits one promise instead of sleeping.
// URLs are scheme-relative: the http page uses http and ws, the https page https and wss.
const PAGE_SCRIPT = `
const settle = (promise) => promise.then((value) => value, (error) => 'failed: ' + error.message)
const websocket = new Promise((resolve, reject) => {
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + '/socket')
  ws.onopen = () => ws.send('ping')
  ws.onmessage = (event) => { resolve(ws.url + ' ' + event.data); ws.close() }
  ws.onerror = () => reject(new Error('websocket error'))
})
const image = (img) => new Promise((resolve, reject) => {
  const done = () => (img.naturalWidth > 0 ? resolve(img.src) : reject(new Error(img.src)))
  if (img.complete) done()
  else { img.onload = done; img.onerror = done }
})
const api = fetch('//${API_HOST}/data.json').then((response) => response.json()).then((body) => body.message)
window.results = Promise.all([
  settle(websocket),
  Promise.all([...document.images].map((img) => settle(image(img)))),
  settle(api),
]).then(([websocket, images, fetched]) => {
  document.getElementById('websocket').textContent = websocket
  document.getElementById('images').textContent = images.join(' ')
  document.getElementById('fetch').textContent = fetched
  document.title = 'Loaded: ' + document.title
  return { websocket, images, fetch: fetched }
})
`

const square = (color: string, label: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96"><rect width="96" height="96" fill="${color}"/><text x="48" y="56" font-size="20" text-anchor="middle" fill="#fff">${label}</text></svg>`

/** The URL the default resolver put into the path (`/https://host/path`), when there is one. */
function targetOf(url: string): URL | undefined {
  const { pathname, search } = new URL(url)
  return URL.canParse(pathname.slice(1)) ? new URL(pathname.slice(1) + search) : undefined
}

/** The app; pages answer at `http(s)://<PAGE_HOST>/` and any other host serving the same. */
export function browserApp(): Hono {
  const app = new Hono()
  app.get(
    '*',
    upgradeWebSocket((c) => {
      const target = targetOf(c.req.url)
      return {
        onMessage(event, ws) {
          ws.send(
            `echo ${typeof event.data === 'string' ? event.data : 'binary'} from ${target?.origin ?? 'nowhere'}`
          )
        },
      }
    })
  )
  app.get('*', (c) => {
    const target = targetOf(c.req.url)
    if (target === undefined) {
      // The browser's own requests to the proxy host, such as /favicon.ico.
      return c.notFound()
    }
    if (target.host === IMAGE_HOST) {
      const color = target.pathname === '/one.svg' ? '#0b57d0' : '#137333'
      return c.body(square(color, target.pathname.slice(1, 4)), 200, {
        'content-type': 'image/svg+xml',
      })
    }
    if (target.host === API_HOST) {
      const message = `api answered over ${target.protocol}`
      return c.json({ message }, 200, { 'access-control-allow-origin': '*' })
    }
    const title = `${target.protocol.slice(0, -1)} test page`
    return c.html(
      html`<!doctype html>
        <html lang="en">
          <head>
            <meta charset="utf-8" />
            <title>${title}</title>
          </head>
          <body style="font: 18px sans-serif; margin: 2rem">
            <h1 id="heading">Served by the app at ${target.href}</h1>
            <p>
              <img src="//${IMAGE_HOST}/one.svg" alt="one" />
              <img src="//${IMAGE_HOST}/two.svg" alt="two" />
            </p>
            <dl>
              <dt>WebSocket</dt>
              <dd id="websocket">…</dd>
              <dt>Images</dt>
              <dd id="images">…</dd>
              <dt>fetch()</dt>
              <dd id="fetch">…</dd>
            </dl>
            <script>
              ${raw(PAGE_SCRIPT)}
            </script>
          </body>
        </html>`
    )
  })
  return app
}

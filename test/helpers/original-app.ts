/**
 * The app of the original Python wsgiprox's test suite, in Hono: it answers in plain text with
 * the path and query it received (`Requested Url: ...`), so that a client's output shows the
 * translation exactly. Query parameters pick a response shape: `addproxyhost=true` appends the
 * `X-Wsgiprox-Proxy-Host` value (to WebSocket echoes too, which the original did not), `chunked=true` and `write=true` send a body of unknown length,
 * `stream=true&data=...` streams `data` and counts in `streams` the readers that reached its end, and a
 * WebSocket upgrade echoes `WS Request Url: <path> Echo: <message>` unless `ignore_ws=true`.
 */
import { upgradeWebSocket } from '@hono/node-server'
import { Hono } from 'hono'
import type { Context } from 'hono'

/** How many `stream=true` bodies were read to their end. */
export interface StreamEnds {
  finished: number
}

/** The original's `CustomApp`: names the proxy host and the path it was asked for. */
export function customApp(): Hono {
  const app = new Hono()
  app.all('*', (c) =>
    c.text(`Custom App: ${c.req.header('x-wsgiprox-proxy-host') ?? ''} req to ${c.req.path}`)
  )
  return app
}

/** The path and query the app received, the original's `REQUEST_URI`. */
const requestUri = (c: Context) => {
  const url = new URL(c.req.url)
  return url.pathname + url.search
}

/** ` Proxy Host: <X-Wsgiprox-Proxy-Host>` when the query asks for it with `addproxyhost=true`. */
const proxyHostPart = (c: Context) =>
  c.req.query('addproxyhost') === 'true'
    ? ` Proxy Host: ${c.req.header('x-wsgiprox-proxy-host') ?? ''}`
    : ''

/** A body of unknown length: the response goes out chunked to HTTP/1.1 clients. */
function unsized(text: string): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text))
      controller.close()
    },
  })
}

/**
 * `data` in one chunk, then the end, each when the reader asks: the end is counted in `streams`
 * only when a reader asks past the data, as the original's `close()` of its iterable was.
 */
function streamed(data: string, streams: StreamEnds): ReadableStream<Uint8Array> {
  let sent = false
  return new ReadableStream({
    pull(controller) {
      if (sent) {
        streams.finished++
        controller.close()
        return
      }
      sent = true
      controller.enqueue(new TextEncoder().encode(data))
    },
  })
}

/** The original's `TestWSGI`, with `streams` counting the streamed bodies read to their end. */
export function originalApp(streams: StreamEnds = { finished: 0 }): Hono {
  const app = new Hono()
  const echo = upgradeWebSocket((c) => ({
    onMessage(event, ws) {
      const message = typeof event.data === 'string' ? event.data : '(binary)'
      ws.send(`WS Request Url: ${requestUri(c)} Echo: ${message}${proxyHostPart(c)}`)
    },
  }))
  app.all('*', async (c, next) => {
    const wantsSocket = c.req.header('upgrade')?.toLowerCase() === 'websocket'
    if (wantsSocket && c.req.query('ignore_ws') === undefined) {
      return echo(c, next)
    }
    if (c.req.query('stream') === 'true') {
      return c.body(streamed(c.req.query('data') ?? '', streams))
    }
    let text = `Requested Url: ${requestUri(c)}`
    if (c.req.method === 'POST') {
      text += ` Post Data: ${await c.req.text()}`
    }
    text += proxyHostPart(c)
    if (c.req.query('chunked') === 'true' || c.req.query('write') === 'true') {
      return c.body(unsized(text))
    }
    return c.text(text)
  })
  return app
}

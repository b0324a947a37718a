/**
 * An app that answers with what it knows of the connection: the client address Hono's
 * `getConnInfo` reads, and the serving process. Its default export is an app for `--app`.
 */
import { upgradeWebSocket } from '@hono/node-server'
import { getConnInfo } from '@hono/node-server/conninfo'
import { Hono } from 'hono'
import type { Context } from 'hono'

/** What the app saw. */
export interface Seen {
  address?: string
  port?: number
  addressType?: string
  pid: number
  path: string
}

const STREAM_INTERVAL_MS = 50

function seen(c: Context): Seen {
  const url = new URL(c.req.url)
  return { ...getConnInfo(c).remote, pid: process.pid, path: url.pathname + url.search }
}

/**
 * `.../ws` upgrades and sends a {@link Seen}; `.../stream?chunks=N` streams N lines, one every
 * 50 ms (`chunks=0`: until the client leaves); anything else answers a {@link Seen} as JSON.
 */
export function connInfoApp(): Hono {
  const app = new Hono()
  app.get(
    '/:rest{(.*/)?ws}',
    upgradeWebSocket((c) => {
      const info = seen(c)
      return {
        onOpen(_event, ws) {
          ws.send(JSON.stringify(info))
        },
      }
    })
  )
  app.get('/:rest{(.*/)?stream}', (c) => {
    const chunks = Number(c.req.query('chunks') ?? '10')
    let sent = 0
    let timer: NodeJS.Timeout | undefined
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        timer = setInterval(() => {
          sent++
          controller.enqueue(new TextEncoder().encode(`chunk ${sent}\n`))
          if (sent === chunks) {
            clearInterval(timer)
            controller.close()
          }
        }, STREAM_INTERVAL_MS)
      },
      cancel() {
        clearInterval(timer)
      },
    })
    return c.body(body, 200, { 'content-type': 'text/plain' })
  })
  app.all('*', (c) => c.json(seen(c)))
  return app
}

export default connInfoApp()

/**
 * The soak's app: a short answer naming the path (so a client can tell its own answer from
 * another's), a body of N bytes for slow readers, a WebSocket echo, and the bad responses of
 * faults.ts.
 */
import { upgradeWebSocket } from '@hono/node-server'
import { Hono } from 'hono'
import { faultResponse } from './faults'

/** Bodies are bounded: a slow reader asks for at most this much. */
const MAX_BYTES = 4 * 1024 * 1024

export function createSoakApp(): Hono {
  const app = new Hono()
  const echo = upgradeWebSocket(() => ({
    onMessage(event, ws) {
      ws.send(event.data as string)
    },
  }))
  // The app sees `/<full URL>`: routes match on how the path ends.
  app.get('*', (c, next) => (c.req.path.endsWith('/ws') ? echo(c, next) : next()))
  app.all('*', (c) => {
    const path = new URL(c.req.url).pathname
    const bytes = /\/bytes\/(\d+)$/.exec(path)?.[1]
    if (bytes !== undefined) {
      const body = new Uint8Array(Math.min(Number(bytes), MAX_BYTES)).fill(0x61)
      return c.body(body, 200, { 'content-type': 'application/octet-stream' })
    }
    const fault = /\/fault\/([\w-]+)$/.exec(path)?.[1]
    return (fault === undefined ? undefined : faultResponse(fault)) ?? c.text(`ok ${path}\n`)
  })
  return app
}

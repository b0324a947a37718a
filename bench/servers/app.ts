import { upgradeWebSocket } from '@hono/node-server'
import { Hono } from 'hono'
import { HELLO } from './protocol'

/**
 * The app every Fetch-based system serves: `hello world\n` for any request and a WebSocket
 * echo for W5. The echo route matches both `/ws` (direct) and a proxy's translated path such
 * as `/https://example.com/ws`, so the same app runs unchanged behind the proxy.
 */
export function createBenchApp(): Hono {
  const app = new Hono()
  app.get(
    '/:rest{(.*/)?ws}',
    upgradeWebSocket(() => ({
      onMessage(event, ws) {
        ws.send(event.data as string)
      },
    }))
  )
  app.all('*', (c) => c.text(HELLO))
  return app
}

/**
 * The app a user's own benchmark most likely starts with: one catch-all route, no regular
 * expression for Hono's router to run over the long proxy path, no WebSocket echo.
 */
export function createMinimalApp(): Hono {
  const app = new Hono()
  app.all('*', (c) => c.text(HELLO))
  return app
}

/** A bare Fetch handler, no framework: what the proxy and node-server cost with nothing above. */
export function bareHandler(): Response {
  return new Response(HELLO, { headers: { 'content-type': 'text/plain;charset=UTF-8' } })
}

import { getRequestListener } from '@hono/node-server'
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer as createSecureServer } from 'node:https'
import { listenOrigin } from './origin'
import { start } from './protocol'
import type { ReadyInfo } from './protocol'

/**
 * Serves `fetch` on node-server over plain HTTP and node:https, each request's path first made
 * the one a proxy's app sees (`/http://example.com/` for `GET /` on example.com); `websocket`
 * says whether it answers W5.
 */
export function startFullPath(
  fetch: (request: Request) => Response | Promise<Response>,
  websocket: ReadyInfo['websocket'] = true
): void {
  start(() => {
    const listener = getRequestListener(fetch)
    const fullPath = (scheme: string) => (req: IncomingMessage, res: ServerResponse) => {
      req.url = `/${scheme}://${req.headers.host ?? 'example.com'}${req.url ?? '/'}`
      void listener(req, res)
    }
    return listenOrigin(
      (cert) => ({
        plain: createServer(fullPath('http')),
        secure: createSecureServer({ cert: cert.certPem, key: cert.keyPem }, fullPath('https')),
      }),
      websocket
    )
  })
}

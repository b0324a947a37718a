/**
 * An app server as a test starts it: it renders a page from data it fetches server-side from
 * https://api.example.com. Started with a test proxy's `env`, that fetch goes through the proxy
 * and the fake answers (see testing-app-server.test.ts); nothing in the server knows of tests.
 *
 *   PORT=3000 npx tsx examples/testing-app-server.ts
 */
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { EnvHttpProxyAgent, setGlobalDispatcher } from 'undici'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'

// Node 24 sends fetch through HTTPS_PROXY by itself when NODE_USE_ENV_PROXY=1; Node 20 and 22
// need undici's agent that reads the same variables (NODE_EXTRA_CA_CERTS works on both).
if (Number(process.versions.node.split('.')[0]) < 24) {
  setGlobalDispatcher(new EnvHttpProxyAgent())
}

const app = new Hono()
app.get('/', async (c) => {
  const user = (await (await fetch('https://api.example.com/v1/user')).json()) as { name: string }
  // The widget comes from a CDN the browser fetches itself.
  return c.html(
    `<!doctype html><title>shop</title><h1>Hello, ${user.name}</h1>` +
      '<script src="https://cdn.example.com/widget.js"></script>'
  )
})

const server = serve({
  fetch: app.fetch,
  port: Number(process.env.PORT ?? 3000),
  hostname: '127.0.0.1',
})
await once(server, 'listening')
console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`)

import { Hono } from 'hono'

/** What the echo app saw of a request. */
export interface Echo {
  method: string
  /** Path and query of the Request the app received. */
  path: string
  url: string
  proxyHost: string | null
  headers: Record<string, string>
  body: string
}

/** A Hono app answering every request with JSON describing it. */
export function echoApp(tag = 'main'): Hono {
  const app = new Hono()
  app.all('*', async (c) => {
    const url = new URL(c.req.url)
    const echo: Echo & { app: string } = {
      app: tag,
      method: c.req.method,
      path: url.pathname + url.search,
      url: c.req.url,
      proxyHost: c.req.header('x-wsgiprox-proxy-host') ?? null,
      headers: Object.fromEntries(c.req.raw.headers),
      body: await c.req.text(),
    }
    return c.json(echo)
  })
  // Hono's default handler prints the error; a client that leaves mid-body (robustness tests)
  // makes reading the body fail, which is expected, so the status carries it instead.
  app.onError((error, c) => c.text(`${tag}: ${error.message}`, 500))
  return app
}

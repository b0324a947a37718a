/**
 * Fakes for a whole test run: `wsgiprox --app examples/testing-fakes.ts -- npm test` runs the
 * tests with every client sent through the proxy (see docs/testing.md). The `proxyApps` export
 * answers for api.example.com with its own paths; the default export answers everything else.
 *
 *   npx tsx src/cli/index.ts --app examples/testing-fakes.ts -- curl -sS https://api.example.com/v1/user
 */
import { Hono } from 'hono'

const api = new Hono()
api.get('/v1/user', (c) => c.json({ name: 'ada' }))

export const proxyApps = { 'api.example.com': api }

export default new Hono().all('*', (c) => c.text(`no fake for ${c.req.path}\n`, 404))

/**
 * The proxy on every core: runCluster runs this same file in one worker per core (WORKERS=N to
 * choose), all listening on one port and signing with one CA file that the primary opened
 * before starting them. SIGTERM or Ctrl-C lets requests in flight finish, then exits.
 *
 *   npx tsx examples/cluster.ts
 *   curl -x http://127.0.0.1:8080 http://example.com/    # "worker 12345 answers ..."
 */
import { Hono } from 'hono'
import { createProxy, runCluster } from '../src/index'

const app = new Hono()
app.all('*', (c) => c.text(`worker ${process.pid} answers ${c.req.path}\n`))

// The same CA options for the primary (which creates the file if missing) and every worker.
const ca = { file: './ca/wsgiprox-ca.pem' }
// A worker replacing dead ones gets the announced port (PORT=0 picks one for the first workers).
const cluster = await runCluster(
  (announced) =>
    createProxy(app, { ca }).listen(announced ?? Number(process.env.PORT ?? 8080), '127.0.0.1'),
  { workers: process.env.WORKERS ? Number(process.env.WORKERS) : 'auto', ca }
)
if (cluster.role === 'primary') {
  console.log(`listening on http://127.0.0.1:${cluster.address.port} (${cluster.workers} workers)`)
}

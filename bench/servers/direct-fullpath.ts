/**
 * `direct-fullpath`: `direct` with the request's path made the one a proxy's app sees (SPEC.md:
 * `/http://example.com/` for `GET /` on example.com) before node-server reads it, and nothing
 * else. The floor of a Fetch-app proxy that follows the SPEC's URL shape: between `direct` and
 * it is what the longer path costs node-server's checks and the app's router; between it and
 * `wsgiprox` is what the proxy's own work costs (admission, the rewrite, the response guard).
 * Not in the default systems: `--systems direct,direct-fullpath,wsgiprox`.
 */
import { createBenchApp } from './app'
import { startFullPath } from './fullpath'

startFullPath(createBenchApp().fetch)

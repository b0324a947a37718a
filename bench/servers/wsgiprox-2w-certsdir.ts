/**
 * `wsgiprox-2w-certsdir`: `wsgiprox-2w` whose workers share issued certificates through
 * `ca.certsDir`; run on request (`--systems`), for bench/certs-dir.ts's question.
 */
import { startCluster } from './cluster'

startCluster({ workers: 2, certsDir: true })

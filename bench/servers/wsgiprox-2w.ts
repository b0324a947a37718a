/** `wsgiprox-2w`: `wsgiprox` in two `node:cluster` workers (see ./cluster.ts). */
import { startCluster } from './cluster'

startCluster({ workers: 2, certsDir: false })

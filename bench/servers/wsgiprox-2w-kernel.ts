/**
 * `wsgiprox-2w-kernel`: `wsgiprox-2w` with `node:cluster`'s SCHED_NONE, the kernel handing each
 * connection to whichever worker accepts it first instead of the primary passing them round;
 * run on request (`--systems`).
 */
import { startCluster } from './cluster'

startCluster({ workers: 2, certsDir: false, policy: 'none' })

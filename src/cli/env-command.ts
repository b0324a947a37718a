/**
 * `wsgiprox env [--port PORT] [--host ADDRESS] [--ca-file FILE]`: print, as `export` lines, the
 * environment that sends clients through a proxy running on that port with that CA, after
 * writing the CA certificate alone beside the CA file (clients never get the key).
 * @module
 */
import { basename, dirname, extname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { addressHost } from '../admission/target'
import { DEFAULT_HOST, DEFAULT_PORT } from '../proxy'
import { exportLines, proxyEnv } from '../testing/env'
import { writeAtomically } from '../util/atomic-write'
import { openExisting } from './ca'
import type { Io } from './io'
import { fileError, UsageError } from './io'

export const ENV_USAGE = `usage: wsgiprox env [--port PORT] [--host ADDRESS] [--ca-file FILE]

Prints export lines (HTTP_PROXY, HTTPS_PROXY, NO_PROXY, NODE_USE_ENV_PROXY, NODE_EXTRA_CA_CERTS,
SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, ...) for a proxy running on PORT (default
${DEFAULT_PORT}) at ADDRESS (default ${DEFAULT_HOST}) with the CA in FILE, whose certificate alone
is written beside it as <name>-cert.pem. Use: eval "$(wsgiprox env --port 8080)"`

/** The flags of `wsgiprox env`. */
export const ENV_OPTIONS = {
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  'ca-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

/** Print the environment for a running proxy; resolves with the exit code. */
export async function runEnv(argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args: argv, options: ENV_OPTIONS, strict: true })
  if (values.help) {
    io.stdout.write(`${ENV_USAGE}\n`)
    return 0
  }
  const port = Number(values.port ?? DEFAULT_PORT)
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(
      `--port must be a number from 1 to 65535, got ${JSON.stringify(values.port)}`
    )
  }
  const ca = await openExisting(values['ca-file'])
  const caFile = ca.file ?? ''
  const certFile = join(dirname(caFile), `${basename(caFile, extname(caFile))}-cert.pem`)
  // Written beside the file and renamed into place: whatever is at the name (a link, even to the
  // CA file itself, or a FIFO nobody reads) is replaced, never written through or waited on.
  await writeAtomically(certFile, ca.certPem, { mode: 0o644, replace: true }).catch(
    (error: unknown) => {
      throw fileError('write', certFile, error)
    }
  )
  const url = `http://${addressHost(values.host ?? DEFAULT_HOST)}:${port}`
  io.stdout.write(exportLines(proxyEnv(url, certFile)))
  return 0
}

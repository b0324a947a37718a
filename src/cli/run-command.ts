/**
 * `wsgiprox [flags] -- COMMAND [ARGS...]`: start a proxy, run COMMAND with the proxy's
 * environment (proxy variables, the CA certificate's file) merged into its own, forward signals,
 * stop the proxy when COMMAND ends, and exit as COMMAND did.
 * @module
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import type { AddressInfo } from 'node:net'
import { constants } from 'node:os'
import { addressHost } from '../admission/target'
import { DEFAULT_HOST } from '../proxy'
import { tempCertFile } from '../testing/ca-pin'
import { proxyEnv } from '../testing/env'
import type { Io } from './io'
import { UsageError } from './io'
import { listenProxy, parseServeArgs, SERVE_USAGE } from './serve'

/** Signals passed on to the command, which decides what they mean. */
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const

/** The exit code of a command that could not be started (as shells use for "not found"). */
const NOT_STARTED = 127

export const RUN_USAGE = `usage: wsgiprox [options] -- COMMAND [ARGS...]

Starts the proxy (on a free port unless --port, with a CA in memory unless --ca-file), runs
COMMAND with HTTP_PROXY, HTTPS_PROXY, NO_PROXY, NODE_USE_ENV_PROXY, NODE_EXTRA_CA_CERTS,
SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE and the rest of docs/testing.md's list added
to its environment, and exits with COMMAND's exit code (128 + the signal's number when a signal
ended it). The CA file COMMAND gets holds the certificate only. Access lines go to stderr, and
only with --log-format. The options are those of wsgiprox (wsgiprox --help) but --workers.`

/** Run `command` through a proxy started from `flags`; resolves with the exit code to use. */
export async function runCommand(flags: string[], command: string[], io: Io): Promise<number> {
  const { values } = parseServeArgs(flags)
  if (values.help) {
    io.stdout.write(`${RUN_USAGE}\n\n${SERVE_USAGE}\n`)
    return 0
  }
  const [file, ...args] = command
  if (file === undefined) {
    throw new UsageError('nothing to run after --; give a command: wsgiprox -- npm test')
  }
  if (values.workers !== undefined && values.workers !== '1') {
    throw new UsageError('--workers cannot be used with a command after --')
  }
  const port = values.port === undefined ? 0 : Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(
      `--port must be a number from 0 to 65535, got ${JSON.stringify(values.port)}`
    )
  }
  // The command owns stdout; the proxy's lines go to stderr, and access lines only when asked.
  const proxyIo = { stdout: io.stderr, stderr: io.stderr }
  const quiet = values.quiet ?? values['log-format'] === undefined
  const { proxy, server, flush } = await listenProxy({ ...values, quiet }, port, proxyIo, {
    caFile: values['ca-file'] ?? null,
  })
  const certFile = tempCertFile((await proxy.getCertificateAuthority()).certPem)
  try {
    // An IPv6 --host needs its brackets in the URL clients parse: http://[::1]:8080.
    const host = addressHost(values.host ?? DEFAULT_HOST)
    const url = `http://${host}:${(server.address() as AddressInfo).port}`
    return await runChild(file, args, { ...process.env, ...proxyEnv(url, certFile.file) }, io)
  } finally {
    await Promise.all([proxy.close(), certFile.remove()])
    flush()
  }
}

/** Spawn the command with inherited stdio and resolve with its exit code, forwarding signals. */
function runChild(file: string, args: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  // The handlers go in before the command starts: a signal sent as soon as the command shows
  // signs of life must not find this process without them (and end it, orphaning the command).
  const running: { child?: ChildProcess } = {}
  const forward = (signal: NodeJS.Signals) => {
    running.child?.kill(signal)
  }
  for (const signal of FORWARDED) {
    process.on(signal, forward)
  }
  const child = spawn(file, args, { stdio: 'inherit', env })
  running.child = child
  return new Promise<number>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'ENOENT' ? 'no such command' : error.message
      io.stderr.write(`wsgiprox: cannot run ${file}: ${why}\n`)
      resolve(NOT_STARTED)
    })
    child.once('exit', (code, signal) => {
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0))
    })
  }).finally(() => {
    for (const signal of FORWARDED) {
      process.off(signal, forward)
    }
  })
}

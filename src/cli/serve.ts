/**
 * `wsgiprox [--port --host --prefix --ca-file --ca-name --proxy-host --app --workers
 * --proxy-protocol --metrics --shutdown-timeout --quiet --log-format]`: start a proxy.
 * @module
 */
import type { WebSocketServerLike } from '@hono/node-server'
import { stat } from 'node:fs/promises'
import type { Server } from 'node:http'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ProxyAuthResolver } from '../admission/resolvers'
import { CLUSTER_DEFAULTS } from '../cluster/cluster'
import { toError } from '../errors'
import { DEFAULTS } from '../options'
import { createProxy, DEFAULT_HOST, DEFAULT_PORT } from '../proxy'
import type { App, Proxy, ProxyApps } from '../types'
import { cliReporters, LOG_FORMATS } from './access-log'
import type { LogFormat } from './access-log'
import { banner } from './banner'
import { serveWorkers, workersOption } from './cluster'
import { createDemoApp } from './demo-app'
import { appLoadError } from './error-report'
import { authFlags, listenError, prefixFlag } from './flag-checks'
import type { Io } from './io'
import { fileError, formatFlags, UsageError } from './io'
import { FLAG_HELP, parseServeArgs, SERVE_OPTIONS } from './serve-flags'
import type { ServeTarget, ServeValues } from './serve-flags'
import { drainingStop, shutdownTimeoutMs } from './shutdown'
import { closableWebSockets } from './websockets'

export { FLAG_HELP, parseServeArgs, SERVE_OPTIONS } from './serve-flags'
export type { ServeTarget, ServeValues } from './serve-flags'

export const SERVE_USAGE = `usage: wsgiprox [options]
       wsgiprox replay ARCHIVE...          (see wsgiprox replay --help)
       wsgiprox [options] -- COMMAND [ARGS...]   (run COMMAND through the proxy)
       wsgiprox env [--port PORT] [--host ADDRESS] [--ca-file FILE]   (see wsgiprox env --help)
       wsgiprox ca init|issue|export ...   (see wsgiprox ca --help)

Starts an HTTP/HTTPS/WebSocket proxy whose every request is answered by the built-in demo app,
or by your own app (--app). Point a client at http://ADDRESS:PORT as its HTTP and HTTPS proxy.

Options:
${formatFlags(Object.entries(FLAG_HELP).map(([name, help]) => ({ name, ...SERVE_OPTIONS[name as keyof typeof SERVE_OPTIONS], ...help })))}

Errors print one line; the exit code is 2 for a command line that cannot be used, 1 for anything
else (a CA file or --app module that cannot be loaded, a port in use).`

/** Start the proxy and resolve with a function that stops it (`undefined` after --help). */
export async function runServe(
  argv: string[],
  io: Io,
  version: string
): Promise<(() => Promise<void>) | undefined> {
  const { values } = parseServeArgs(argv)
  if (values.help) {
    io.stdout.write(`${SERVE_USAGE}\n`)
    return undefined
  }
  if (values.version) {
    io.stdout.write(`${version}\n`)
    return undefined
  }
  const port = checkServeValues(values)
  const format = values['log-format'] ?? 'common'
  // With --log-format json stdout holds JSON records only: the banner goes to stderr.
  const bannerOut = format === 'json' ? io.stderr : io.stdout
  const workers = workersOption(values.workers ?? '1')
  const shutdownTimeout =
    values['shutdown-timeout'] ?? String(CLUSTER_DEFAULTS.shutdownTimeoutMs / 1000)
  shutdownTimeoutMs(shutdownTimeout) // checked before any worker starts
  if (workers !== 1) {
    return serveWorkers(
      {
        workers,
        shutdownTimeout,
        ca: { file: values['ca-file'], name: values['ca-name'] },
        // A replacement worker listens where the cluster announced, not on a new free port.
        start: async (announced) => (await listenProxy(values, announced ?? port, io)).server,
        banner: (actualPort, ca, count) => banner(values, actualPort, ca, count),
      },
      // The banner is written to stdout: with JSON records there it goes to stderr.
      { stdout: bannerOut, stderr: io.stderr }
    )
  }
  return serveOne(values, port, io)
}

/** The port the flags ask for; throws a UsageError for a bad --port, --prefix or --log-format. */
export function checkServeValues(values: ServeValues): number {
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(
      `--port must be a number from 0 to 65535, got ${JSON.stringify(values.port)}`
    )
  }
  if (values.prefix !== undefined) {
    values.prefix = prefixFlag(values.prefix)
  }
  authFlags(values)
  const format = values['log-format'] ?? 'common'
  if (!(LOG_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--log-format must be common or json, got ${JSON.stringify(format)}`)
  }
  return port
}

/**
 * Start one proxy as the flags say (serving `target` when given), print the banner; resolves
 * with the stop that drains it.
 */
export async function serveOne(
  values: ServeValues,
  port: number,
  io: Io,
  target?: ServeTarget
): Promise<() => Promise<void>> {
  const timeoutMs = shutdownTimeoutMs(
    values['shutdown-timeout'] ?? String(CLUSTER_DEFAULTS.shutdownTimeoutMs / 1000)
  )
  // With --log-format json stdout holds JSON records only: the banner goes to stderr.
  const bannerOut = values['log-format'] === 'json' ? io.stderr : io.stdout
  const websockets = closableWebSockets()
  const { proxy, server, flush } = await listenProxy(values, port, io, { websockets, target })
  const drain = drainingStop(proxy, server, websockets, timeoutMs, io)
  const stop = () =>
    drain()
      .then(() => target?.close?.())
      .finally(flush)
  const address = server.address()
  const actualPort = typeof address === 'object' && address ? address.port : port
  bannerOut.write(banner(values, actualPort, await proxy.getCertificateAuthority(), 1, target))
  return stop
}

/**
 * Load the app and start one proxy listening as the flags say; `caFile` replaces `--ca-file`
 * (`null`: a CA in memory).
 */
export async function listenProxy(
  values: ServeValues,
  port: number,
  io: Io,
  options: { websockets?: WebSocketServerLike; caFile?: string | null; target?: ServeTarget } = {}
): Promise<{ proxy: Proxy; server: Server; flush: () => void }> {
  const { websockets, target } = options
  const caFile = options.caFile === undefined ? values['ca-file'] : options.caFile
  const proxyHost = values['proxy-host'] ?? DEFAULTS.proxyHost
  const prefix = values.prefix ?? DEFAULTS.prefix
  const { app, proxyApps } = target
    ? { app: target.app, proxyApps: undefined }
    : values.app === undefined
      ? {
          app: createDemoApp({
            prefix,
            downloadHost: proxyHost,
            userPrefix: values['auth-prefix'] ?? false,
          }),
          proxyApps: undefined,
        }
      : await loadApp(values.app, values.quiet ?? false)
  const { onLog, onError, flush } = cliReporters(io, {
    proxyHost,
    quiet: values.quiet ?? false,
    format: (values['log-format'] ?? 'common') as LogFormat,
  })
  const proxy = createProxy(app, {
    onLog,
    onError,
    ...(target?.resolver
      ? { resolver: target.resolver }
      : values['auth-prefix']
        ? { resolver: new ProxyAuthResolver(values['auth-realm']) }
        : { prefix: values.prefix }),
    proxyHost: values['proxy-host'],
    proxyApps,
    ca: { file: caFile, name: values['ca-name'] },
    proxyProtocol: values['proxy-protocol'] ?? false,
    metrics: values.metrics ?? false,
    ...(websockets && { websocket: { server: websockets } }),
  })
  const host = values.host ?? DEFAULT_HOST
  const server = await proxy.listen(port, host).catch((error: unknown) => {
    throw listenError(error, host, port)
  })
  return { proxy, server, flush }
}

/**
 * The default export of the module at `specifier`, and its `proxyApps` export (apps keyed by
 * host) when it has one. Failures name the file and line (exit code 1), with the stack below
 * unless `quiet`.
 */
async function loadApp(
  specifier: string,
  quiet: boolean
): Promise<{ app: App; proxyApps?: ProxyApps }> {
  const file = resolve(specifier)
  const stats = await stat(file).catch((error: unknown) => {
    throw fileError('read', file, error)
  })
  if (!stats.isFile() && !stats.isDirectory()) {
    // Node's loader would wait for ever on a FIFO nobody writes.
    throw new Error(`cannot read ${file}: not a regular file (a FIFO, socket or device)`)
  }
  let module: { default?: unknown; proxyApps?: unknown }
  try {
    module = (await import(pathToFileURL(file).href)) as { default?: unknown; proxyApps?: unknown }
  } catch (error) {
    throw appLoadError(file, toError(error), quiet)
  }
  const app = module.default
  const { proxyApps } = module
  if (proxyApps !== undefined && (typeof proxyApps !== 'object' || proxyApps === null)) {
    throw new Error(`--app ${file}: its proxyApps export must be an object of apps keyed by host`)
  }
  if (
    typeof app === 'function' ||
    (typeof app === 'object' &&
      app !== null &&
      typeof (app as { fetch?: unknown }).fetch === 'function')
  ) {
    return { app: app as App, proxyApps: proxyApps as ProxyApps | undefined }
  }
  throw new Error(`--app ${file} must export default a Hono app, { fetch } or a function`)
}

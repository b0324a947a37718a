/**
 * `wsgiprox [--port --host --prefix --ca-file --ca-name --proxy-host --app --workers
 * --proxy-protocol --metrics --shutdown-timeout --quiet --log-format]`: start a proxy.
 * @module
 */
import type { WebSocketServerLike } from '@hono/node-server'
import { access } from 'node:fs/promises'
import type { Server } from 'node:http'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { DEFAULT_AUTH_MESSAGE, ProxyAuthResolver } from '../admission/resolvers'
import { addressHost } from '../admission/target'
import { CA_DEFAULTS } from '../ca/authority'
import type { CertificateAuthority } from '../ca/authority'
import { CLUSTER_DEFAULTS } from '../cluster/cluster'
import { toError } from '../errors'
import { DEFAULTS } from '../options'
import { createProxy, DEFAULT_HOST, DEFAULT_PORT } from '../proxy'
import type { App, Proxy, ProxyApps } from '../types'
import { cliReporters, LOG_FORMATS } from './access-log'
import type { LogFormat } from './access-log'
import { serveWorkers, workersOption } from './cluster'
import { createDemoApp } from './demo-app'
import { appLoadError } from './error-report'
import { authFlags, listenError, prefixFlag } from './flag-checks'
import type { Io } from './io'
import { fileError, formatFlags, UsageError } from './io'
import { drainingStop, shutdownTimeoutMs } from './shutdown'
import { closableWebSockets } from './websockets'

/** The flags of the serve command; their defaults are the library's, applied by it. */
export const SERVE_OPTIONS = {
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  prefix: { type: 'string' },
  'auth-prefix': { type: 'boolean' },
  'auth-realm': { type: 'string' },
  'ca-file': { type: 'string' },
  'ca-name': { type: 'string' },
  'proxy-host': { type: 'string' },
  app: { type: 'string' },
  workers: { type: 'string' },
  'proxy-protocol': { type: 'boolean' },
  metrics: { type: 'boolean' },
  'shutdown-timeout': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  'log-format': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const

/** What each flag does, and its default; the type makes a new flag come with its help. */
const FLAG_HELP: Record<
  keyof typeof SERVE_OPTIONS,
  { arg?: string; text: string; default?: string }
> = {
  port: { arg: 'PORT', text: 'port to listen on; 0 picks a free one', default: `${DEFAULT_PORT}` },
  host: {
    arg: 'ADDRESS',
    text: 'address to listen on; 0.0.0.0 lets other devices in',
    default: DEFAULT_HOST,
  },
  prefix: {
    arg: 'PATH',
    text: 'what the app sees before the full URL: PATH + http://host/path; a missing leading or trailing / is added',
    default: DEFAULTS.prefix,
  },
  'auth-prefix': {
    text: 'ask clients for proxy credentials (407) and use the user name as the prefix: the app sees /USER/http://host/path (ProxyAuthResolver)',
  },
  'auth-realm': {
    arg: 'TEXT',
    text: "with --auth-prefix, the realm a client's login prompt shows",
    default: `'${DEFAULT_AUTH_MESSAGE}'`,
  },
  'ca-file': {
    arg: 'FILE',
    text: 'the CA (private key and certificate, PEM), created when missing',
    default: CA_DEFAULTS.file,
  },
  'ca-name': {
    arg: 'NAME',
    text: 'common name of the CA when it is created',
    default: `'${CA_DEFAULTS.name}'`,
  },
  'proxy-host': {
    arg: 'HOST',
    text: "the proxy's own host name, with the CA's page at http://HOST/download/",
    default: DEFAULTS.proxyHost,
  },
  app: {
    arg: 'MODULE',
    text: "serve MODULE's default export (a Hono app, { fetch } or a function) instead of the built-in demo app, and its proxyApps export (apps keyed by host) if any",
  },
  workers: {
    arg: 'N|auto',
    text: 'N processes on node:cluster sharing the port and the CA file; auto: one per core',
    default: '1',
  },
  'proxy-protocol': {
    text: 'expect a PROXY protocol v1/v2 header on every connection (behind HAProxy send-proxy-v2); refuse connections without one',
  },
  metrics: {
    text: 'serve OpenMetrics (requests, tunnels, HTTP/2 sessions, certificates, errors, durations, fds, RSS) at http://PROXY-HOST/metrics, through the proxy',
  },
  'shutdown-timeout': {
    arg: 'SECONDS',
    text: 'how long the first SIGTERM/SIGINT waits for requests in flight before it cuts them (a second one stops at once)',
    default: String(CLUSTER_DEFAULTS.shutdownTimeoutMs / 1000),
  },
  quiet: { text: 'print no access line per request; errors still print, one line each' },
  'log-format': {
    arg: 'common|json',
    text: 'common: one access line per request; json: one JSON record per request, tunnel, certificate and error',
    default: 'common',
  },
  help: { text: 'print this help and exit' },
  version: { text: 'print the version and exit' },
}

/** The serve flags, parsed. */
export type ServeValues = ReturnType<typeof parseServeArgs>['values']

/** Parse the serve flags, refusing unknown ones. */
export function parseServeArgs(argv: string[]) {
  return parseArgs({ args: argv, options: SERVE_OPTIONS, strict: true })
}

export const SERVE_USAGE = `usage: wsgiprox [options]
       wsgiprox [options] -- COMMAND [ARGS...]   (run COMMAND through the proxy)
       wsgiprox env [--port PORT] [--ca-file FILE]   (export lines for a running proxy)
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
  // With --log-format json stdout holds JSON records only: the banner goes to stderr.
  const bannerOut = format === 'json' ? io.stderr : io.stdout
  const workers = workersOption(values.workers ?? '1')
  const shutdownTimeout =
    values['shutdown-timeout'] ?? String(CLUSTER_DEFAULTS.shutdownTimeoutMs / 1000)
  const timeoutMs = shutdownTimeoutMs(shutdownTimeout)
  if (workers !== 1) {
    return serveWorkers(
      {
        workers,
        shutdownTimeout,
        ca: { file: values['ca-file'], name: values['ca-name'] },
        // A replacement worker listens where the cluster announced, not on a new free port.
        start: async (announced) => (await listenProxy(values, announced ?? port, io)).server,
        banner: (actualPort, ca) => banner(values, actualPort, ca, workers),
      },
      // The banner is written to stdout: with JSON records there it goes to stderr.
      { stdout: bannerOut, stderr: io.stderr }
    )
  }
  const websockets = closableWebSockets()
  const { proxy, server, flush } = await listenProxy(values, port, io, { websockets })
  const drain = drainingStop(proxy, server, websockets, timeoutMs, io)
  const stop = () => drain().finally(flush)
  const address = server.address()
  const actualPort = typeof address === 'object' && address ? address.port : port
  bannerOut.write(banner(values, actualPort, await proxy.getCertificateAuthority()))
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
  options: { websockets?: WebSocketServerLike; caFile?: string | null } = {}
): Promise<{ proxy: Proxy; server: Server; flush: () => void }> {
  const { websockets } = options
  const caFile = options.caFile === undefined ? values['ca-file'] : options.caFile
  const proxyHost = values['proxy-host'] ?? DEFAULTS.proxyHost
  const prefix = values.prefix ?? DEFAULTS.prefix
  const { app, proxyApps } =
    values.app === undefined
      ? { app: createDemoApp({ prefix, downloadHost: proxyHost }), proxyApps: undefined }
      : await loadApp(values.app, values.quiet ?? false)
  const { onLog, onError, flush } = cliReporters(io, {
    quiet: values.quiet ?? false,
    format: (values['log-format'] ?? 'common') as LogFormat,
  })
  const proxy = createProxy(app, {
    onLog,
    onError,
    ...(values['auth-prefix']
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

/** What the proxy prints once it listens: where, with what, and how to try it. */
function banner(values: ServeValues, port: number, ca: CertificateAuthority, workers = 1): string {
  // An IPv6 address needs its brackets in a URL (RFC 3986 §3.2.2): http://[::1]:8080.
  const proxyUrl = `http://${addressHost(values.host ?? DEFAULT_HOST)}:${port}`
  const proxyHost = values['proxy-host'] ?? DEFAULTS.proxyHost
  const scale = [
    ...(workers > 1 ? [`${workers} workers (node:cluster)`] : []),
    ...(values['proxy-protocol'] ? ['PROXY protocol required on every connection'] : []),
  ]
  return [
    `wsgiprox listening on ${proxyUrl}`,
    `  SOCKS5 (same port): socks5h://${addressHost(values.host ?? DEFAULT_HOST)}:${port}`,
    `  PAC file: http://${addressHost(values.host ?? DEFAULT_HOST)}:${port}/proxy.pac`,
    `  app: ${values.app ?? 'built-in demo'}; prefix: ${values['auth-prefix'] ? '/<proxy user name>/' : (values.prefix ?? DEFAULTS.prefix)}; proxy host: ${proxyHost}`,
    ...(scale.length > 0 ? [`  ${scale.join('; ')}`] : []),
    `  CA: ${ca.file ?? '(in memory)'} (SHA-256 ${ca.fingerprint256})`,
    ...ca.warnings.map((warning) => `  warning: ${warning}`),
    `  try: curl -x ${proxyUrl} http://example.com/`,
    `       curl --cacert ${values['ca-file'] ?? CA_DEFAULTS.file} -x ${proxyUrl} https://example.com/`,
    `  trust the CA: http://${proxyHost}/download/ (through the proxy)`,
    ...(values.metrics ? [`  metrics: curl -x ${proxyUrl} http://${proxyHost}/metrics`] : []),
    '',
  ].join('\n')
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
  await access(file).catch((error: unknown) => {
    throw fileError('read', file, error)
  })
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

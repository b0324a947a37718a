/**
 * `wsgiprox [--port --host --prefix --ca-file --ca-name --proxy-host --app --workers
 * --proxy-protocol --shutdown-timeout --quiet --log-format]`: start a proxy.
 * @module
 */
import { access } from 'node:fs/promises'
import type { Server } from 'node:http'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { CA_DEFAULTS } from '../ca/authority'
import type { CertificateAuthority } from '../ca/authority'
import { CLUSTER_DEFAULTS } from '../cluster'
import { DEFAULTS } from '../options'
import { createProxy, DEFAULT_HOST, DEFAULT_PORT } from '../proxy'
import { addressHost } from '../target'
import type { App, Proxy, Resolver } from '../types'
import { cliReporters, LOG_FORMATS } from './access-log'
import type { LogFormat } from './access-log'
import { serveWorkers, workersOption } from './cluster'
import { createDemoApp } from './demo-app'
import type { Io } from './io'
import { fileError, formatFlags, messageOf, oneLine, UsageError } from './io'

/** The flags of the serve command; their defaults are the library's, applied by it. */
export const SERVE_OPTIONS = {
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  prefix: { type: 'string' },
  'ca-file': { type: 'string' },
  'ca-name': { type: 'string' },
  'proxy-host': { type: 'string' },
  app: { type: 'string' },
  workers: { type: 'string' },
  'proxy-protocol': { type: 'boolean' },
  'shutdown-timeout': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  'log-format': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const

/** What each flag does, and its default; the type makes a new flag come with its help. */
export const FLAG_HELP: Record<
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
    text: 'what the app sees before the full URL: PATH + http://host/path',
    default: DEFAULTS.prefix,
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
    text: "serve MODULE's default export (a Hono app, { fetch } or a function) instead of the built-in demo app",
  },
  workers: {
    arg: 'N|auto',
    text: 'N processes on node:cluster sharing the port and the CA file; auto: one per core',
    default: '1',
  },
  'proxy-protocol': {
    text: 'expect a PROXY protocol v1/v2 header on every connection (behind HAProxy send-proxy-v2); refuse connections without one',
  },
  'shutdown-timeout': {
    arg: 'SECONDS',
    text: 'with --workers, how long SIGTERM/SIGINT wait for requests in flight',
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
export type ServeValues = Partial<ReturnType<typeof parseServeArgs>['values']>

/**
 * What another command (replay) serves instead of the app the flags name: the app, its
 * resolver, and the banner lines that describe them.
 */
export interface ServeTarget {
  app: App
  resolver?: Resolver
  /** Lines for the banner in place of the app line and the `try:` lines. */
  banner: (proxyUrl: string, caFile: string) => string[]
  /** Release what the app holds, after the proxy closes. */
  close?: () => Promise<void>
}

function parseServeArgs(argv: string[]) {
  return parseArgs({ args: argv, options: SERVE_OPTIONS, strict: true })
}

export const SERVE_USAGE = `usage: wsgiprox [options]
       wsgiprox replay ARCHIVE...          (see wsgiprox replay --help)
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
  const workers = workersOption(values.workers ?? '1')
  if (workers !== 1) {
    return serveWorkers(
      {
        workers,
        shutdownTimeout:
          values['shutdown-timeout'] ?? String(CLUSTER_DEFAULTS.shutdownTimeoutMs / 1000),
        ca: { file: values['ca-file'], name: values['ca-name'] },
        start: async () => (await startProxy(values, port, io)).server,
        banner: (actualPort, ca) => banner(values, actualPort, ca, workers),
      },
      io
    )
  }
  return serveOne(values, port, io)
}

/** The port the flags ask for; throws a UsageError for a bad --port or --log-format. */
export function checkServeValues(values: ServeValues): number {
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(
      `--port must be a number from 0 to 65535, got ${JSON.stringify(values.port)}`
    )
  }
  const format = values['log-format'] ?? 'common'
  if (!(LOG_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--log-format must be common or json, got ${JSON.stringify(format)}`)
  }
  return port
}

/** Start one proxy as the flags say (serving `target` when given), print the banner. */
export async function serveOne(
  values: ServeValues,
  port: number,
  io: Io,
  target?: ServeTarget
): Promise<() => Promise<void>> {
  const { proxy, server } = await startProxy(values, port, io, target)
  const address = server.address()
  const actualPort = typeof address === 'object' && address ? address.port : port
  io.stdout.write(banner(values, actualPort, await proxy.getCertificateAuthority(), 1, target))
  return async () => {
    await proxy.close()
    await target?.close?.()
  }
}

/** Load the app and start one proxy listening as the flags say. */
async function startProxy(
  values: ServeValues,
  port: number,
  io: Io,
  target?: ServeTarget
): Promise<{ proxy: Proxy; server: Server }> {
  const proxyHost = values['proxy-host'] ?? DEFAULTS.proxyHost
  const prefix = values.prefix ?? DEFAULTS.prefix
  const app =
    target?.app ??
    (values.app === undefined
      ? createDemoApp({ prefix, downloadHost: proxyHost })
      : await loadApp(values.app))
  const { onLog, onError } = cliReporters(io, {
    quiet: values.quiet ?? false,
    format: (values['log-format'] ?? 'common') as LogFormat,
  })
  const proxy = createProxy(app, {
    onLog,
    onError,
    ...(target?.resolver ? { resolver: target.resolver } : { prefix: values.prefix }),
    proxyHost: values['proxy-host'],
    ca: { file: values['ca-file'], name: values['ca-name'] },
    proxyProtocol: values['proxy-protocol'] ?? false,
  })
  return { proxy, server: await proxy.listen(port, values.host ?? DEFAULT_HOST) }
}

/** What the proxy prints once it listens: where, with what, and how to try it. */
function banner(
  values: ServeValues,
  port: number,
  ca: CertificateAuthority,
  workers = 1,
  target?: ServeTarget
): string {
  const proxyUrl = `http://${values.host ?? DEFAULT_HOST}:${port}`
  const proxyHost = values['proxy-host'] ?? DEFAULTS.proxyHost
  const scale = [
    ...(workers > 1 ? [`${workers} workers (node:cluster)`] : []),
    ...(values['proxy-protocol'] ? ['PROXY protocol required on every connection'] : []),
  ]
  return [
    `wsgiprox listening on ${proxyUrl}`,
    `  SOCKS5 (same port): socks5h://${addressHost(values.host ?? DEFAULT_HOST)}:${port}`,
    `  PAC file: http://${addressHost(values.host ?? DEFAULT_HOST)}:${port}/proxy.pac`,
    ...(target
      ? [`  proxy host: ${proxyHost}`]
      : [
          `  app: ${values.app ?? 'built-in demo'}; prefix: ${values.prefix ?? DEFAULTS.prefix}; proxy host: ${proxyHost}`,
        ]),
    ...(scale.length > 0 ? [`  ${scale.join('; ')}`] : []),
    `  CA: ${ca.file ?? '(in memory)'} (SHA-256 ${ca.fingerprint256})`,
    ...ca.warnings.map((warning) => `  warning: ${warning}`),
    ...(target
      ? target.banner(proxyUrl, values['ca-file'] ?? CA_DEFAULTS.file).map((line) => `  ${line}`)
      : [
          `  try: curl -x ${proxyUrl} http://example.com/`,
          `       curl --cacert ${values['ca-file'] ?? CA_DEFAULTS.file} -x ${proxyUrl} https://example.com/`,
        ]),
    `  trust the CA: http://${proxyHost}/download/ (through the proxy)`,
    '',
  ].join('\n')
}

/** The default export of the module at `specifier`; failures name the file (exit code 1). */
async function loadApp(specifier: string): Promise<App> {
  const file = resolve(specifier)
  await access(file).catch((error: unknown) => {
    throw fileError('read', file, error)
  })
  let module: { default?: unknown }
  try {
    module = (await import(pathToFileURL(file).href)) as { default?: unknown }
  } catch (error) {
    throw new Error(`cannot load --app ${file}: ${oneLine(messageOf(error))}`, { cause: error })
  }
  const app = module.default
  if (
    typeof app === 'function' ||
    (typeof app === 'object' &&
      app !== null &&
      typeof (app as { fetch?: unknown }).fetch === 'function')
  ) {
    return app as App
  }
  throw new Error(`--app ${file} must export default a Hono app, { fetch } or a function`)
}

/**
 * `wsgiprox [--port --host --prefix --ca-file --ca-name --proxy-host --app --workers
 * --proxy-protocol --shutdown-timeout]`: start a proxy.
 * @module
 */
import type { Server } from 'node:http'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import type { CertificateAuthority } from '../ca/authority'
import { CLUSTER_DEFAULTS } from '../cluster'
import { createProxy } from '../proxy'
import { addressHost } from '../target'
import type { App, Proxy } from '../types'
import { serveWorkers, workersOption } from './cluster'
import { createDemoApp } from './demo-app'
import type { Io } from './io'
import { UsageError } from './io'

/** The flags of the serve command. */
export const SERVE_OPTIONS = {
  port: { type: 'string', short: 'p', default: '8080' },
  host: { type: 'string', default: '127.0.0.1' },
  prefix: { type: 'string', default: '/' },
  'ca-file': { type: 'string', default: './ca/wsgiprox-ca.pem' },
  'ca-name': { type: 'string', default: 'wsgiprox https proxy CA' },
  'proxy-host': { type: 'string', default: 'wsgiprox' },
  app: { type: 'string' },
  workers: { type: 'string', default: '1' },
  'proxy-protocol': { type: 'boolean', default: false },
  'shutdown-timeout': {
    type: 'string',
    default: String(CLUSTER_DEFAULTS.shutdownTimeoutMs / 1000),
  },
  help: { type: 'boolean', short: 'h' },
} as const

/** The serve flags, parsed. */
type ServeValues = ReturnType<typeof parseServeArgs>['values']

function parseServeArgs(argv: string[]) {
  return parseArgs({ args: argv, options: SERVE_OPTIONS, strict: true })
}

export const SERVE_USAGE = `usage: wsgiprox [--port 8080] [--host 127.0.0.1] [--prefix /] [--ca-file ./ca/wsgiprox-ca.pem]
                [--ca-name NAME] [--proxy-host wsgiprox] [--app MODULE]
                [--workers 1|N|auto] [--proxy-protocol] [--shutdown-timeout 10]
       wsgiprox ca init|issue|export ...   (wsgiprox ca --help)

Starts an HTTP/HTTPS/WebSocket proxy on HOST:PORT whose every request is answered by the
built-in demo app, or by the default export of MODULE (a Hono app, { fetch } or a function).

  --workers N|auto      N processes (auto: one per core) sharing the port and the CA file
  --proxy-protocol      expect a PROXY protocol v1/v2 header on each connection (HAProxy
                        send-proxy-v2); connections without one are refused
  --shutdown-timeout S  with --workers, how long SIGTERM/SIGINT wait for requests in flight`

/** Start the proxy and resolve with a function that stops it (`undefined` after --help). */
export async function runServe(argv: string[], io: Io): Promise<(() => Promise<void>) | undefined> {
  const { values } = parseServeArgs(argv)
  if (values.help) {
    io.stdout.write(`${SERVE_USAGE}\n`)
    return undefined
  }
  const port = Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(
      `--port must be a number from 0 to 65535, got ${JSON.stringify(values.port)}`
    )
  }
  const workers = workersOption(values.workers)
  if (workers !== 1) {
    return serveWorkers(
      {
        workers,
        shutdownTimeout: values['shutdown-timeout'],
        ca: { file: values['ca-file'], name: values['ca-name'] },
        start: async () => (await startProxy(values, port)).server,
        banner: (actualPort, ca) => banner(values, actualPort, ca, workers),
      },
      io
    )
  }
  const { proxy, server } = await startProxy(values, port)
  const address = server.address()
  const actualPort = typeof address === 'object' && address ? address.port : port
  io.stdout.write(banner(values, actualPort, await proxy.getCertificateAuthority()))
  return () => proxy.close()
}

/** Load the app and start one proxy listening as the flags say. */
async function startProxy(
  values: ServeValues,
  port: number
): Promise<{ proxy: Proxy; server: Server }> {
  const app = values.app === undefined ? createDemoApp() : await loadApp(values.app)
  const proxy = createProxy(app, {
    prefix: values.prefix,
    proxyHost: values['proxy-host'],
    ca: { file: values['ca-file'], name: values['ca-name'] },
    proxyProtocol: values['proxy-protocol'],
  })
  return { proxy, server: await proxy.listen(port, values.host) }
}

/** What the proxy prints once it listens: where, with what, and how to try it. */
function banner(values: ServeValues, port: number, ca: CertificateAuthority, workers = 1): string {
  const warnings = ca.warnings.map((warning) => `  warning: ${warning}`)
  const scale = [
    ...(workers > 1 ? [`${workers} workers (node:cluster)`] : []),
    ...(values['proxy-protocol'] ? ['PROXY protocol required on every connection'] : []),
  ]
  return [
    `wsgiprox listening on http://${values.host}:${port}`,
    `  SOCKS5 (same port): socks5h://${addressHost(values.host)}:${port}`,
    `  PAC file: http://${addressHost(values.host)}:${port}/proxy.pac`,
    `  app: ${values.app ?? 'built-in demo'}; prefix: ${values.prefix}; proxy host: ${values['proxy-host']}`,
    ...(scale.length > 0 ? [`  ${scale.join('; ')}`] : []),
    `  CA: ${ca.file ?? '(in memory)'} (SHA-256 ${ca.fingerprint256})`,
    ...warnings,
    `  try: curl -x http://${values.host}:${port} http://example.com/`,
    `       curl --cacert ${values['ca-file']} -x http://${values.host}:${port} https://example.com/`,
    `  trust the CA: http://${values['proxy-host']}/download/ (through the proxy)`,
    '',
  ].join('\n')
}

async function loadApp(specifier: string): Promise<App> {
  const url = pathToFileURL(resolve(specifier)).href
  let module: { default?: unknown }
  try {
    module = (await import(url)) as { default?: unknown }
  } catch (error) {
    throw new UsageError(
      `cannot load --app ${specifier}: ${error instanceof Error ? error.message : String(error)}`
    )
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
  throw new UsageError(`--app ${specifier} must export default a Hono app, { fetch } or a function`)
}

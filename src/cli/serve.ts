/**
 * `wsgiprox [--port --host --prefix --ca-file --ca-name --proxy-host --app]`: start a proxy.
 * @module
 */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { createProxy } from '../proxy'
import type { App } from '../types'
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
  help: { type: 'boolean', short: 'h' },
} as const

export const SERVE_USAGE = `usage: wsgiprox [--port 8080] [--host 127.0.0.1] [--prefix /] [--ca-file ./ca/wsgiprox-ca.pem]
                [--ca-name NAME] [--proxy-host wsgiprox] [--app MODULE]
       wsgiprox ca init|issue|export ...   (wsgiprox ca --help)

Starts an HTTP/HTTPS/WebSocket proxy on HOST:PORT whose every request is answered by the
built-in demo app, or by the default export of MODULE (a Hono app, { fetch } or a function).`

/** Start the proxy and resolve with a function that stops it (`undefined` after --help). */
export async function runServe(argv: string[], io: Io): Promise<(() => Promise<void>) | undefined> {
  const { values } = parseArgs({ args: argv, options: SERVE_OPTIONS, strict: true })
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
  const app = values.app === undefined ? createDemoApp() : await loadApp(values.app)
  const proxy = createProxy(app, {
    prefix: values.prefix,
    proxyHost: values['proxy-host'],
    ca: { file: values['ca-file'], name: values['ca-name'] },
  })
  const server = await proxy.listen(port, values.host)
  const address = server.address()
  const actualPort = typeof address === 'object' && address ? address.port : port
  const ca = await proxy.getCertificateAuthority()
  for (const warning of ca.warnings) {
    io.stderr.write(`wsgiprox: warning: ${warning}\n`)
  }
  io.stdout.write(
    [
      `wsgiprox listening on http://${values.host}:${actualPort}`,
      `  app: ${values.app ?? 'built-in demo'}; prefix: ${values.prefix}; proxy host: ${values['proxy-host']}`,
      `  CA: ${ca.file ?? '(in memory)'} (SHA-256 ${ca.fingerprint256})`,
      `  try: curl -x http://${values.host}:${actualPort} http://example.com/`,
      `       curl --cacert ${values['ca-file']} -x http://${values.host}:${actualPort} https://example.com/`,
      `  trust the CA: http://${values['proxy-host']}/download/ (through the proxy)`,
      '',
    ].join('\n')
  )
  return () => proxy.close()
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

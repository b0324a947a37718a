/**
 * `startProxy`: a running proxy and everything a test gives its clients to use it (the proxy
 * URL, the CA as a file and as Chromium's pin, the environment of a child process, an undici
 * dispatcher for this process), with apps that can be swapped between tests.
 * @module
 */
import type { Dispatcher } from 'undici'
import type { AddressInfo } from 'node:net'
import { describe, validHost } from '../admission/target'
import { addProxyApp } from '../app/late-proxy-apps'
import { CertificateAuthority } from '../ca/authority'
import { isCode, OptionsError } from '../errors'
import { proxyAppsOption } from '../option-checks'
import { createProxy } from '../proxy'
import type { App, Proxy, ProxyOptions } from '../types'
import { spkiSha256, tempCertFile } from './ca-pin'
import { checkTestOptions, splitArguments } from './check-options'
import { createTestDispatcher } from './dispatcher'
import { proxyEnv } from './env'
import { notFaked } from './not-faked'
import type { ReportedError } from './records'
import { createRecords } from './records'
import { bodyLimitOption, see } from './seen'
import type { TestRequestRecord } from './seen'
import { swappableMainApp, swappableProxyApp } from './swappable-app'
import type { SwappableApp } from './swappable-app'

/** Options of {@link startProxy}: those of `createProxy`, and the port. */
export interface TestProxyOptions extends ProxyOptions {
  /** The port on 127.0.0.1 to listen on. @default 0 (a free port) */
  port?: number
  /**
   * The bytes of each request body kept in its record (`requests[i].body`); past them the
   * record keeps the start and says `truncated`, and the app still reads the whole body. `0`:
   * no bodies are recorded. @default 1048576 (1 MiB)
   */
  recordBodyLimit?: number
}

/** The proxy's CA as clients take it. */
export interface TestProxyCa {
  /** The CA certificate in PEM, without the key. */
  readonly pem: string
  /**
   * A file holding that certificate only; `close()` removes it, or else the process's exit. A
   * killed process's is removed by the next proxy that writes one.
   */
  readonly file: string
  /** Base64 SHA-256 of the CA's SubjectPublicKeyInfo, as `--ignore-certificate-errors-spki-list` wants. */
  readonly spki: string
}

/**
 * The dispatcher type of the global `fetch`'s init. `@types/node` declares it with its own copy
 * of undici's types (undici-types, versioned with `@types/node`), which TypeScript finds
 * incompatible with the `undici` package's `Dispatcher`; `unknown` where the init has no
 * dispatcher (the DOM lib's `RequestInit`).
 */
export type FetchInitDispatcher = RequestInit extends { dispatcher?: infer D }
  ? NonNullable<D>
  : unknown

/** A running proxy for tests, made by {@link startProxy}. */
export interface TestProxy extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`: HTTP proxy, HTTPS through CONNECT and SOCKS5, on one port. */
  readonly url: string
  readonly port: number
  readonly ca: TestProxyCa
  /**
   * The environment a child process needs to go through the proxy and trust the CA: the proxy
   * variables in both cases, `NO_PROXY` (loopback only), `NODE_USE_ENV_PROXY=1`, and the CA file
   * for Node, OpenSSL, Python requests, curl, git, AWS SDKs and Deno. Merge it into the child's.
   * @example
   * execFile('curl', ['https://api.example.com/'], { env: { ...process.env, ...proxy.env } })
   */
  readonly env: Readonly<Record<string, string>>
  /**
   * Launch arguments that send Chromium through the proxy and make it accept the certificates of
   * the proxy's CA, and of no other unknown issuer: verification stays on. A new array on each
   * read, typed as Playwright's and Puppeteer's `args` are, so adding to it changes nothing here.
   * @example
   * await chromium.launch({ args: proxy.chromiumArgs })
   */
  readonly chromiumArgs: string[]
  /**
   * An undici dispatcher for this process: `fetch(url, { dispatcher: proxy.dispatcher })` goes
   * through the proxy and trusts its CA; loopback goes direct, as `NO_PROXY` in `env` says. Made
   * the global dispatcher, it is replaced by the one that was global before when `close()` ends it.
   * Typed for both `fetch`es: Node's global one and undici's.
   */
  // eslint-disable-next-line @typescript-eslint/no-redundant-type-constituents -- unknown only under the DOM lib this repository compiles with
  readonly dispatcher: Dispatcher & FetchInitDispatcher
  /**
   * `{ dispatcher }`, typed as the `RequestInit` of the project that compiles it: under the DOM
   * lib, whose `RequestInit` has no `dispatcher`, the object literal would need a cast. Spread it
   * to add to it.
   * @example
   * await fetch('https://api.example.com/v1/users', { ...proxy.fetchInit, method: 'POST', body })
   */
  readonly fetchInit: RequestInit
  /**
   * One record per request, added when its response has ended (what `onLog` is given), in the
   * order the requests arrived, with the headers and body the app saw.
   * @example
   * expect(proxy.requests[0]?.headers?.get('authorization')).toBe('Bearer t')
   * expect(await proxy.requests[0]?.body?.json()).toEqual({ amount: 5 })
   */
  readonly requests: readonly TestRequestRecord[]
  /** What the proxy reported to `onError`, oldest first. */
  readonly errors: readonly ReportedError[]
  /**
   * Empty `requests` and `errors`, for example between tests. A request asked before it is not
   * listed when its response ends after it, nor the error its app throws after it.
   */
  clear(): void
  /** From the next request on, the main app is `app`. */
  setApp(app: App): void
  /**
   * From the next request on, `host`'s proxy app is `app`; `null` hands its requests to the main
   * app. A host not named in the `proxyApps` given to `startProxy` becomes a proxy host here: its
   * requests are no longer translated, and its certificate is issued on its first handshake.
   * @throws OptionsError for what is not a host name.
   */
  setProxyApp(host: string, app: App | null): void
  /** The underlying proxy made by `createProxy`. */
  readonly proxy: Proxy
  /**
   * Stop the proxy, destroy the dispatcher (restoring the global dispatcher it had replaced),
   * remove `ca.file`. Safe to call more than once.
   */
  close(): Promise<void>
}

/**
 * Start a proxy on 127.0.0.1 answering with `app` (and the `proxyApps`, keyed by host), with a
 * new CA kept in memory unless `options.ca` says otherwise; pass one `CertificateAuthority` to
 * many proxies to skip making a CA each time. Without `app`, what no proxy app answers gets a
 * 404 whose body names the request (`not faked: GET https://...`).
 * @example
 * await using proxy = await startProxy({ proxyApps: { 'api.example.com': apiFake } })
 * const response = await fetch('https://api.example.com/v1/user', { dispatcher: proxy.dispatcher })
 */
export async function startProxy(options?: TestProxyOptions): Promise<TestProxy>
export async function startProxy(app: App, options?: TestProxyOptions): Promise<TestProxy>
export async function startProxy(
  appOrOptions?: App | TestProxyOptions,
  maybeOptions?: TestProxyOptions
): Promise<TestProxy> {
  const [app = notFaked, options = {}] = splitArguments(appOrOptions, maybeOptions)
  checkTestOptions(options)
  const { port = 0, ca = { file: null }, proxyApps = {}, onLog, onError, ...rest } = options
  const { recordBodyLimit, ...proxyOptions } = rest
  const bodyLimit = bodyLimitOption(recordBodyLimit)
  const look = (request: Request, env: unknown) => see(request, env, bodyLimit)
  const records = createRecords(onLog, onError)
  const main = swappableMainApp(app, look)
  const hosts = new Map<string, SwappableApp>()
  // Checked here: createProxy sees only the stable handlers, which are always valid apps.
  const proxyAppOf = (host: string, hostApp: App | null) =>
    swappableProxyApp(
      host,
      hostApp,
      (error) => {
        records.onError(error, { phase: 'app', host })
      },
      look
    )
  for (const [host, hostApp] of proxyAppsOption(proxyApps)) {
    hosts.set(host, proxyAppOf(host, hostApp))
  }
  const proxy = createProxy(main.handler, {
    ...proxyOptions,
    ca: ca instanceof CertificateAuthority ? ca : { file: null, ...ca },
    proxyApps: Object.fromEntries([...hosts].map(([host, swap]) => [host, swap.handler])),
    onLog: records.onLog,
    onError: records.onError,
  })
  let started: Awaited<ReturnType<typeof clientSide>>
  try {
    started = await clientSide(proxy, port)
  } catch (error) {
    await proxy.close()
    throw isCode(error, 'EADDRINUSE') ? portInUse(port, error) : error
  }
  const { url, certFile, dispatcher, spki } = started
  let env: Record<string, string> | undefined
  let closing: Promise<void> | undefined
  const close = () =>
    (closing ??= Promise.all([proxy.close(), dispatcher.close(), certFile.remove()]).then(
      () => undefined
    ))

  return {
    url,
    port: started.port,
    ca: {
      pem: certFile.pem,
      get file() {
        return certFile.file
      },
      spki,
    },
    get env() {
      return (env ??= proxyEnv(url, certFile.file))
    },
    get chromiumArgs() {
      return [`--proxy-server=${url}`, `--ignore-certificate-errors-spki-list=${spki}`]
    },
    dispatcher: dispatcher.dispatcher,
    fetchInit: { dispatcher: dispatcher.dispatcher } as RequestInit,
    requests: records.requests,
    errors: records.errors,
    clear: records.clear,
    setApp: main.set,
    setProxyApp(host, hostApp) {
      // A JavaScript caller may pass anything: what is not a host name is refused by name.
      const name = typeof (host as unknown) === 'string' ? validHost(host) : undefined
      const swap = hosts.get(name ?? host)
      if (swap) {
        swap.set(hostApp)
        return
      }
      if (name === undefined) {
        throw new OptionsError(`setProxyApp wants a host name, got ${describe(host)}`)
      }
      const added = proxyAppOf(name, hostApp)
      hosts.set(name, added)
      addProxyApp(proxy, name, added.handler)
    },
    proxy,
    close,
    [Symbol.asyncDispose]: close,
  }
}

/** Listen, then make what clients use: the CA file, the pin, the dispatcher. */
async function clientSide(proxy: Proxy, port: number) {
  const server = await proxy.listen(port, '127.0.0.1')
  const actualPort = (server.address() as AddressInfo).port
  const url = `http://127.0.0.1:${actualPort}`
  const { certPem } = await proxy.getCertificateAuthority()
  const certFile = tempCertFile(certPem)
  const dispatcher = await createTestDispatcher(url, certPem)
  return { url, port: actualPort, certFile, dispatcher, spki: spkiSha256(certPem) }
}

/**
 * Node says "listen EADDRINUSE: address already in use", which names the address but not the
 * way out; in a test suite the port is mostly a fixed one that test files running in parallel
 * (or a proxy an earlier test left open) both ask for.
 */
function portInUse(port: number | string, error: unknown): OptionsError {
  return new OptionsError(
    `port ${port} on 127.0.0.1 is in use (EADDRINUSE): leave port out, or 0, for a free one`,
    { cause: error }
  )
}

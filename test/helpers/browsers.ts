/**
 * Real browsers for the end-to-end tests: Debian's chromium through playwright-core, the CA
 * trusted the way a user trusts it (an NSS database made with certutil), never with certificate
 * errors ignored; and what the screenshots are checked with.
 */
import { chromium } from 'playwright-core'
import type { BrowserContext, Page } from 'playwright-core'
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { inflateSync } from 'node:zlib'
import type { App, ProxyOptions } from '../../src/types'
import { browserApp } from './browser-app'
import type { RunningProxy } from './proxy'
import { startProxy } from './proxy'
import { toolPath } from './tools'

const run = promisify(execFile)

/** Where screenshots go (gitignored); CI keeps them for a person to look at. */
export const ARTIFACTS = resolve(import.meta.dirname, '../artifacts')
/** Each browser test starts a browser, so it gets more than the default 10 s. */
export const BROWSER_TEST_TIMEOUT_MS = 60_000

/** The proxy of the current test, and a way to close what the test starts once it ends. */
export interface BrowserTestSetup {
  running: () => RunningProxy
  /** Run `cleanup` after this test, after those deferred later (last started, first closed). */
  defer: (cleanup: () => Promise<void>) => void
}

/**
 * Start `app` (the browser test app unless given) behind a proxy with `options` before each test;
 * close everything after it.
 */
export function useBrowserTestProxy(
  app: () => App = browserApp,
  options: ProxyOptions = {}
): BrowserTestSetup {
  let current: RunningProxy | undefined
  const cleanups: (() => Promise<void>)[] = []
  beforeEach(async () => {
    const started = await startProxy(app(), options)
    current = started
    cleanups.push(() => started.close())
  })
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup()
    }
  })
  return {
    running: () => {
      if (!current) {
        throw new Error('no proxy outside a test')
      }
      return current
    },
    defer: (cleanup) => {
      cleanups.push(cleanup)
    },
  }
}

/**
 * A Chromium on the test proxy whose HOME has an NSS database trusting the proxy's CA (unless
 * `trusted` is false), as the landing page tells a Linux user to set one up; closed after the test.
 */
export async function chromiumOnProxy(
  setup: BrowserTestSetup,
  { trusted = true, setting = 'http' }: { trusted?: boolean; setting?: ProxySetting } = {}
): Promise<{ context: BrowserContext; page: Page }> {
  const home = await tempDir('wsgiprox-chromium-')
  setup.defer(() => home.remove())
  await nssDatabase(join(home.path, '.pki/nssdb'), trusted ? setup.running().caPem : undefined)
  const context = await launchChromium(home.path, setup.running().port, setting)
  setup.defer(() => context.close())
  return { context, page: context.pages()[0] ?? (await context.newPage()) }
}

/** A temporary folder, removed by `remove()`. */
export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix))
  return { path, remove: () => rm(path, { recursive: true, force: true }) }
}

/**
 * Make an NSS database in `dir` (what Chromium reads from `$HOME/.pki/nssdb` and Firefox from its
 * profile), trusting `caPem` for websites when given: the install steps of the landing page.
 */
export async function nssDatabase(dir: string, caPem?: string): Promise<void> {
  await mkdir(dir, { recursive: true })
  const db = `sql:${dir}`
  await run(toolPath('certutil'), ['-N', '--empty-password', '-d', db])
  if (caPem !== undefined) {
    const file = join(dir, 'wsgiprox-ca-cert.pem')
    await writeFile(file, caPem)
    await run(toolPath('certutil'), ['-A', '-t', 'C,,', '-n', 'wsgiprox', '-i', file, '-d', db])
  }
}

/** How a browser is pointed at the proxy: as an HTTP proxy, a SOCKS5 proxy, or by its PAC file. */
export type ProxySetting = 'http' | 'socks5' | 'pac'

/** The Chromium flag for `setting`. */
function chromiumProxyFlag(setting: ProxySetting, proxyPort: number): string {
  const address = `127.0.0.1:${proxyPort}`
  switch (setting) {
    case 'http':
      return `--proxy-server=http://${address}`
    case 'socks5':
      // Chromium resolves names through a SOCKS5 proxy (socks5h behaviour).
      return `--proxy-server=socks5://${address}`
    case 'pac':
      return `--proxy-pac-url=http://${address}/proxy.pac`
  }
}

/**
 * Chromium with `home` as its HOME (so its NSS database) and the proxy on `proxyPort`, given
 * `extraArgs` too (a CA pinned with `--ignore-certificate-errors-spki-list`).
 */
export async function launchChromium(
  home: string,
  proxyPort: number,
  setting: ProxySetting = 'http',
  extraArgs: string[] = []
): Promise<BrowserContext> {
  return chromium.launchPersistentContext(join(home, 'chromium-profile'), {
    executablePath: toolPath('chromium'),
    env: { ...process.env, HOME: home },
    acceptDownloads: true,
    viewport: { width: 1000, height: 800 },
    args: [
      // Root in CI and here: Chromium's sandbox needs an unprivileged user.
      '--no-sandbox',
      '--disable-gpu',
      // QUIC would bypass an HTTP proxy; the machine has no network to find that out with.
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      chromiumProxyFlag(setting, proxyPort),
      ...extraArgs,
    ],
  })
}

/** Save `png` as `test/artifacts/<name>` and return its path. */
export async function saveArtifact(name: string, png: Buffer): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true })
  const path = join(ARTIFACTS, name)
  await writeFile(path, png)
  return path
}

/** Save a screenshot as `test/artifacts/<name>` and check it shows a page, not a blank. */
export async function expectScreenshot(png: Buffer, name: string): Promise<void> {
  await saveArtifact(name, png)
  const summary = summarizePng(png)
  expect(summary.width).toBeGreaterThan(500)
  expect(summary.height).toBeGreaterThan(500)
  expect(summary.distinctBytes).toBeGreaterThan(32)
}

/** The size of a PNG and how many different byte values its pixel data has. */
export interface PngSummary {
  width: number
  height: number
  /** A blank page has a handful (the filtered rows are almost all zeros); a rendered page many. */
  distinctBytes: number
}

/** Read the header and pixel data of a PNG: enough to tell a blank screenshot from a page. */
export function summarizePng(png: Buffer): PngSummary {
  if (png.subarray(0, 8).toString('latin1') !== '\x89PNG\r\n\x1a\n') {
    throw new Error('not a PNG')
  }
  const idat: Buffer[] = []
  let width = 0
  let height = 0
  for (let offset = 8; offset < png.length;) {
    const length = png.readUInt32BE(offset)
    const type = png.toString('latin1', offset + 4, offset + 8)
    const data = png.subarray(offset + 8, offset + 8 + length)
    if (type === 'IHDR') {
      width = data.readUInt32BE(0)
      height = data.readUInt32BE(4)
    } else if (type === 'IDAT') {
      idat.push(data)
    }
    offset += length + 12
  }
  const pixels = inflateSync(Buffer.concat(idat))
  return { width, height, distinctBytes: new Set(pixels).size }
}

/** The requests of `page` that fail from now on, each as its URL and Chromium's error. */
export function failedRequests(page: Page): string[] {
  const failed: string[] = []
  page.on('requestfailed', (request) => {
    failed.push(`${request.url()} ${request.failure()?.errorText ?? ''}`)
  })
  return failed
}

/** The protocol the page's own document came over (`h2`, `http/1.1`). */
export function pageProtocol(page: Page): Promise<string> {
  return page.evaluate(
    () =>
      (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).nextHopProtocol
  )
}

/**
 * The serve command's flags: their parse options, their help, and what they parse to. Other
 * commands (replay, -- COMMAND) take the same flags.
 * @module
 */
import { parseArgs } from 'node:util'
import { DEFAULT_AUTH_MESSAGE } from '../admission/resolvers'
import { CA_DEFAULTS } from '../ca/authority'
import { CLUSTER_DEFAULTS } from '../cluster/cluster'
import { DEFAULTS } from '../options'
import { DEFAULT_HOST, DEFAULT_PORT } from '../proxy'
import type { App, Resolver } from '../types'

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
    text: 'serve OpenMetrics (requests, bytes, connections, tunnels, HTTP/2 sessions, certificates, errors, durations, fds, RSS) at http://PROXY-HOST/metrics, through the proxy',
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

/** Parse the serve flags, refusing unknown ones. */
export function parseServeArgs(argv: string[]) {
  return parseArgs({ args: argv, options: SERVE_OPTIONS, strict: true })
}

/**
 * `wsgiprox replay <file.warc | file.warc.gz | file.wacz | folder>... [flags]`: serve archives
 * through the proxy. Each archive is a collection named after its file; with several, the proxy
 * user name picks one. The serve command's flags, checks and banner are reused; the archive
 * code loads only here.
 * @module
 */
import { parseArgs } from 'node:util'
import { count } from '../util/count'
import type { Io } from './io'
import { formatFlags, UsageError } from './io'
import { checkServeValues, FLAG_HELP, serveOne, SERVE_OPTIONS } from './serve'

const FLAGS = [
  'port',
  'host',
  'ca-file',
  'ca-name',
  'proxy-host',
  'proxy-protocol',
  'quiet',
  'log-format',
  'help',
] as const

/** The replay command's own flag: the time requests are answered at. */
const TIMESTAMP_FLAG = {
  name: 'timestamp',
  arg: 'YYYYMMDDhhmmss',
  text: 'answer each request without Accept-Datetime with the capture closest to this time (UTC; YYYY, YYYYMMDD... are the start of that year, day...)',
  default: 'the latest capture',
}

/** The flags of the replay command: the serve flags that make sense with archives, and its own. */
export const REPLAY_OPTIONS = {
  ...(Object.fromEntries(FLAGS.map((name) => [name, SERVE_OPTIONS[name]])) as Pick<
    typeof SERVE_OPTIONS,
    (typeof FLAGS)[number]
  >),
  timestamp: { type: 'string' },
} as const

export const REPLAY_USAGE = `usage: wsgiprox replay <file.warc | file.warc.gz | file.wacz | folder>... [options]

Serves web archives through the proxy: a browser or client set to the proxy gets the archived
pages (https included), never the live web; a URL not in the archive gets a 404 page. Each file
is a collection named after it (a folder gives each archive in it). With several collections,
the proxy user name picks one: http://<collection>:any@ADDRESS:PORT (the password is not
checked). The proxy host (http://wsgiprox/ through the proxy) lists the collections and pages.

Options:
${formatFlags([...FLAGS.map((name) => ({ name, ...SERVE_OPTIONS[name], ...FLAG_HELP[name] })), TIMESTAMP_FLAG])}

Problems in an archive (a truncated record, a corrupt gzip member, a missing file) print one
line each and the rest is served; the exit code is 2 for a command line that cannot be used,
1 when no archive could be opened.`

/** Open the archives and start the proxy; resolves with a function that stops both. */
export async function runReplay(
  argv: string[],
  io: Io
): Promise<(() => Promise<void>) | undefined> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: REPLAY_OPTIONS,
    allowPositionals: true,
    strict: true,
  })
  if (values.help) {
    io.stdout.write(`${REPLAY_USAGE}\n`)
    return undefined
  }
  if (positionals.length === 0) {
    throw new UsageError(
      'replay needs at least one archive: wsgiprox replay FILE.warc|FILE.warc.gz|FILE.wacz|FOLDER...'
    )
  }
  const port = checkServeValues(values)
  const proxyHost = values['proxy-host'] ?? 'wsgiprox'
  // Loaded here, so that the other commands never load warcio and yauzl.
  const { openReplay } = await import('../replay/index')
  const replay = await openReplay(positionals, {
    proxyHosts: [proxyHost],
    onWarning: (line) => io.stderr.write(`warning: ${line}\n`),
    timestamp: values.timestamp,
  }).catch((error: unknown) => {
    // A timestamp that is none is refused before any archive is opened.
    throw error instanceof RangeError ? new UsageError(`--${error.message}`) : error
  })
  const { collections } = replay
  return serveOne(values, port, io, {
    app: replay.app,
    resolver: replay.resolver,
    close: () => replay.close(),
    banner: (proxyUrl, caFile) => {
      const first = collections[0]
      const example = first?.pages[0]?.url ?? 'https://example.com/'
      const login =
        collections.length > 1
          ? proxyUrl.replace('://', `://${first?.name ?? 'name'}:any@`)
          : proxyUrl
      return [
        `replaying ${count(collections.length, 'collection')}:`,
        ...collections.map(
          (c) =>
            `  ${c.name}: ${count(c.pages.length, 'page')}, ${count(c.index.size, 'capture')} (${c.path})`
        ),
        ...(collections.length > 1
          ? ['pick one with the proxy user name: http://<collection>:any@ (any password)']
          : []),
        `pages: http://${proxyHost}/ (through the proxy)`,
        `try: curl --cacert ${caFile} -x ${login} ${example}`,
      ]
    },
  })
}

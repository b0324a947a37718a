/**
 * What the CLI prints while the proxy runs: an access line per request (the common one-line
 * style, or JSON for machines), and one line per error the proxy reports.
 * @module
 */
import type { LogRecord, RequestRecord } from '../log/records'
import type { ErrorContext } from '../types'
import { errorLocation, stackLines } from './error-report'
import type { Io } from './io'
import { lineWriter } from './line-writer'

/** The formats of `--log-format`. */
export const LOG_FORMATS = ['common', 'json'] as const
export type LogFormat = (typeof LOG_FORMATS)[number]

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** `29/Nov/2026:05:30:00 +0000`, the time as common log lines show it (in UTC). */
function commonTime(time: Date): string {
  const two = (n: number) => String(n).padStart(2, '0')
  return (
    `${two(time.getUTCDate())}/${MONTHS[time.getUTCMonth()] ?? ''}/${time.getUTCFullYear()}:` +
    `${two(time.getUTCHours())}:${two(time.getUTCMinutes())}:${two(time.getUTCSeconds())} +0000`
  )
}

/**
 * `text` safe inside a quoted common-log field, as Apache's `mod_log_config` writes it: `"` and
 * `\` escaped with a backslash, and control bytes (and bytes past ASCII, which a terminal may
 * read as controls) as `\xHH` (`\uHHHH` past Latin-1), so that a request target can neither end its field nor forge a
 * line.
 */
export function escapeField(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what it escapes
  return text.replace(/["\\]|[\x00-\x1f\x7f-\uffff]/g, (char) => {
    if (char === '"' || char === '\\') {
      return `\\${char}`
    }
    const code = char.charCodeAt(0)
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`
  })
}

/**
 * A request as one line: the common log format (client, time, request line, status, bytes),
 * then what the proxy made of it: the path the app saw and who answered, the duration, and
 * the tunnel it came through.
 * @example
 * 127.0.0.1 - - [29/Nov/2026:05:30:00 +0000] "GET https://example.com/a HTTP/2.0" 200 512 -> /https://example.com/a (app) 3.1 ms tls h2
 */
export function commonLine(record: RequestRecord): string {
  const target = record.path === undefined ? '' : ` -> ${escapeField(record.path)}`
  const tunnel = record.tunnel
    ? ` ${record.tunnel.tls ? 'tls' : 'plain'}${record.tunnel.alpn ? ` ${record.tunnel.alpn}` : ''}`
    : ''
  const aborted = record.aborted ? ' aborted' : ''
  return (
    `${record.client.address ?? '-'} - - [${commonTime(record.time)}] ` +
    `"${escapeField(record.method)} ${escapeField(record.url)} HTTP/${record.httpVersion}" ${record.status} ` +
    `${record.bytes ?? '-'}${target} (${record.route}) ${record.durationMs.toFixed(1)} ms${tunnel}${aborted}`
  )
}

/** `record` as the line `format` prints, or `undefined` where that format leaves it out. */
export function formatRecord(record: LogRecord, format: LogFormat): string | undefined {
  if (format === 'json') {
    return JSON.stringify(record)
  }
  // The common format is an access log: requests only.
  return record.type === 'request' ? commonLine(record) : undefined
}

/**
 * The TLS alerts a client sends when it will not accept the proxy's certificate, as OpenSSL
 * words them: bad_certificate (42), certificate_unknown (46, Chromium) and unknown_ca (48, curl).
 */
const REFUSED_CERTIFICATE = /SSL alert number (?:42|46|48)\b/

/**
 * The proxy's `onLog` and `onError` for the CLI, and `flush`, which tells how many access lines
 * a stalled stdout, and how many error lines a stalled stderr, made it drop.
 */
export function cliReporters(
  io: Io,
  options: { quiet: boolean; format: LogFormat; proxyHost?: string }
) {
  // stderr is bounded as stdout is: a stream nobody reads must not make the proxy grow.
  const errors = lineWriter(io.stderr, (text) => io.stderr.write(text), {
    what: 'error line',
    stream: 'stderr',
  })
  // The access lines' drop count is an error line like any other, bounded with them.
  const lines = lineWriter(
    io.stdout,
    (text) => {
      errors.write(text)
    },
    {
      what: 'access line',
      stream: 'stdout',
    }
  )
  const onLog = options.quiet
    ? undefined
    : (record: LogRecord) => {
        const line = formatRecord(record, options.format)
        if (line !== undefined) {
          lines.write(`${line}\n`)
        }
      }
  const onError = (error: Error, context: ErrorContext) => {
    const where = context.host === undefined ? context.phase : `${context.phase} ${context.host}`
    const message = error.message.split('\n')[0] ?? ''
    // The app's and the resolver's errors are the user's code: say where they happened.
    const users = context.phase === 'app' || context.phase === 'admission'
    const at = users ? errorLocation(error) : undefined
    if (options.format === 'json') {
      const stack = users ? error.stack : undefined
      errors.write(
        `${JSON.stringify({ type: 'error', time: new Date(), ...context, message, at, stack })}\n`
      )
      return
    }
    const stack = users && !options.quiet ? stackLines(error) : []
    const hint =
      context.phase === 'tls' && REFUSED_CERTIFICATE.test(message)
        ? `; the client refused the certificate: it does not trust the CA yet (http://${options.proxyHost ?? 'wsgiprox'}/download/)`
        : ''
    errors.write(
      [
        `wsgiprox: error (${where}): ${message}${at ? ` (at ${at})` : ''}${hint}`,
        ...stack,
        '',
      ].join('\n')
    )
  }
  return {
    onLog,
    onError,
    flush: () => {
      lines.report()
      errors.report()
    },
  }
}

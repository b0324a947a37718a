/**
 * What CLI commands write to, the error that means "the user typed it wrong", how a file that
 * cannot be read or written is told, and how any failure becomes one line on stderr and an exit
 * code.
 * @module
 */
import { dirname } from 'node:path'
import { toError } from '../errors'

/** Where a command writes; the real process streams, or buffers in tests. */
export interface Io {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
}

/** Bad flags or arguments: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** What the file system's error codes mean, in words. */
const FS_REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a folder',
  ENOTDIR: 'a part of its path is a file, not a folder',
  ENOSPC: 'no space left on the device',
  EROFS: 'the file system is read-only',
  ENXIO: 'it is a FIFO nobody reads, a socket or a missing device',
}

/** A file the command could not read or write, as an error whose message names it and says why. */
export function fileError(action: 'read' | 'write', file: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException | null | undefined)?.code ?? ''
  const why =
    code === 'ENOENT' && action === 'write'
      ? `its folder ${dirname(file)} does not exist`
      : (FS_REASONS[code] ?? messageOf(error))
  return new Error(`cannot ${action} ${file}: ${why}`, { cause: error })
}

/** A failure already printed (by a worker, in its own line): only its exit code is left. */
export class ReportedError extends Error {
  override name = 'ReportedError'
  constructor(readonly exitCode: number) {
    super(`exit code ${exitCode}`)
  }
}

/** Print `error` as one line and return the exit code: 2 for usage errors, 1 for the rest. */
export function reportError(error: unknown, io: Io, helpCommand: string): number {
  if (error instanceof ReportedError) {
    return error.exitCode
  }
  const code = (error as { code?: unknown } | null | undefined)?.code
  const usage =
    error instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
  const hint = usage ? ` (see ${helpCommand} --help)` : ''
  let message = oneLine(messageOf(error))
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    // Where positionals are taken (replay), Node adds a sentence on `--` whose quote it never
    // closes: the first sentence says it all.
    message = message.split('. ')[0] ?? message
  }
  io.stderr.write(`wsgiprox: ${message}${hint}\n`)
  // Lines below it, such as the stack of an --app module that threw while loading.
  const details = (error as { details?: unknown } | null | undefined)?.details
  if (Array.isArray(details)) {
    io.stderr.write(details.map((line) => `${String(line)}\n`).join(''))
  }
  return usage ? 2 : 1
}

/** The message of an error, or the text of whatever else was thrown. */
export function messageOf(error: unknown): string {
  return toError(error).message
}

/** A message on one line, for messages (a module's syntax error) that span several. */
export function oneLine(message: string): string {
  return message.trim().replace(/\s*\n\s*/g, ' ')
}

/** Help lines stay within this many columns. */
const HELP_COLUMNS = 100

/**
 * Help lines for flags, aligned and wrapped:
 * `  -p, --port PORT   what it does (default: 8080)`.
 */
export function formatFlags(
  flags: { short?: string; name: string; arg?: string; text: string; default?: string }[]
): string {
  const heads = flags.map(
    (flag) =>
      `${flag.short ? `-${flag.short}, ` : '    '}--${flag.name}${flag.arg ? ` ${flag.arg}` : ''}`
  )
  const indent = 4 + Math.max(...heads.map((head) => head.length))
  return flags
    .map((flag, i) => {
      const lines = wrap(flag.text, HELP_COLUMNS - indent)
      if (flag.default !== undefined) {
        // The default stays whole: on the last line when it fits, else on a line of its own.
        const fallback = `(default: ${flag.default})`
        const last = lines.length - 1
        if ((lines[last] ?? '').length + 1 + fallback.length <= HELP_COLUMNS - indent) {
          lines[last] = `${lines[last] ?? ''} ${fallback}`
        } else {
          lines.push(fallback)
        }
      }
      return `  ${(heads[i] ?? '').padEnd(indent - 2)}${lines.join(`\n${' '.repeat(indent)}`)}`
    })
    .join('\n')
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else {
      line = line === '' ? word : `${line} ${word}`
    }
  }
  return [...lines, line]
}

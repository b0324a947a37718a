/**
 * What CLI commands write to, the error that means "the user typed it wrong", and how either
 * kind of failure becomes one line on stderr and an exit code.
 * @module
 */

/** Where a command writes; the real process streams, or buffers in tests. */
export interface Io {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
}

/** Bad flags or arguments: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** Print `error` as one line and return the exit code: 2 for usage errors, 1 for the rest. */
export function reportError(error: unknown, io: Io, helpCommand: string): number {
  const code = (error as { code?: unknown } | null | undefined)?.code
  const usage =
    error instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
  const message = error instanceof Error ? error.message : String(error)
  const hint = usage ? ` (see ${helpCommand} --help)` : ''
  io.stderr.write(`wsgiprox: ${message.replace(/\s*\n\s*/g, ' ')}${hint}\n`)
  return usage ? 2 : 1
}

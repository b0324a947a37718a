/**
 * What CLI commands write to, and the error that means "the user typed it wrong".
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

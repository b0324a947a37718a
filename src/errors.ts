/**
 * Errors thrown for what a user got wrong: options, the CA file, a host name.
 * Connection errors never throw; they go to `onError` (see `ProxyOptions.onError`).
 * @module
 */

/** Base class of every error wsgiprox throws; `code` is stable and meant for programs. */
export class WsgiproxError extends Error {
  readonly code: string

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** An option passed to `createProxy` or `CertificateAuthority.open` is not usable. */
export class OptionsError extends WsgiproxError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_WSGIPROX_OPTIONS', message, options)
  }
}

/** A host name or address that can never go into a certificate or a URL. */
export class InvalidHostError extends WsgiproxError {
  readonly host: string

  constructor(host: string, reason: string) {
    super('ERR_WSGIPROX_INVALID_HOST', `invalid host ${JSON.stringify(host)}: ${reason}`)
    this.host = host
  }
}

/** The CA file cannot be read, parsed or trusted; the message names the file and the problem. */
export class CaFileError extends WsgiproxError {
  readonly file: string

  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super('ERR_WSGIPROX_CA_FILE', `CA file ${file}: ${reason}`, options)
    this.file = file
  }
}

/** Whether `error` is a Node system error with `code` (`ENOENT`, `EEXIST`...). */
export function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | null | undefined)?.code === code
}

/** The message of an error made from a thrown value that cannot be shown as text. */
const UNSHOWABLE = 'a value that cannot be shown as text'

/** `error` as an Error: thrown values that are not Errors are wrapped, with their text. */
export function toError(error: unknown): Error {
  try {
    if (error instanceof Error) {
      // Every report reads the message: an Error whose `message` getter throws is caught here,
      // and one whose message is not text is reported by a stand-in holding it as its cause.
      return typeof error.message === 'string' ? error : new Error(UNSHOWABLE, { cause: error })
    }
    return new Error(String(error))
  } catch {
    // What an app may throw or reject with: an object with no prototype, a throwing
    // `toString`, a Proxy whose traps throw. The report must not fail in turn.
    return new Error(UNSHOWABLE)
  }
}

/** A cluster worker exited before it listened; its own error went to its stderr. */
export class WorkerStartError extends WsgiproxError {
  /** The worker's exit code, or null when a signal ended it. */
  readonly exitCode: number | null
  readonly signal: string | null

  constructor(pid: number, exitCode: number | null, signal: string | null) {
    const how = signal === null ? `with code ${String(exitCode)}` : `on ${signal}`
    super('ERR_WSGIPROX_WORKER_START', `worker ${pid} exited ${how} before it listened`)
    this.exitCode = exitCode
    this.signal = signal
  }
}

/**
 * Serve flags checked against the library's own rules, so that the CLI refuses (exit code 2)
 * exactly what `createProxy` would and shows what the library will use; and the failure to
 * listen where the flags say, in one line.
 * @module
 */
import { FixedResolver } from '../admission/resolvers'
import { addressHost } from '../admission/target'
import { CaFileError } from '../errors'
import { messageOf, UsageError } from './io'

/** `--prefix`, as `FixedResolver` takes it: `archive` becomes `/archive/`. */
export function prefixFlag(value: string): string {
  try {
    return new FixedResolver(value).prefix
  } catch (error) {
    throw new UsageError(`--prefix: ${messageOf(error)}`, { cause: error })
  }
}

/** `--auth-prefix` replaces `--prefix`, and `--auth-realm` belongs to it. */
export function authFlags(values: {
  prefix?: string
  'auth-prefix'?: boolean
  'auth-realm'?: string
}): void {
  if (values['auth-prefix'] && values.prefix !== undefined) {
    throw new UsageError('--auth-prefix takes the prefix from the proxy user name: drop --prefix')
  }
  if (!values['auth-prefix'] && values['auth-realm'] !== undefined) {
    throw new UsageError('--auth-realm is the realm of --auth-prefix: add --auth-prefix')
  }
}

/** Why the proxy could not listen on `host:port`, in words that say what to do. */
export function listenError(error: unknown, host: string, port: number): Error {
  if (error instanceof CaFileError) {
    // The CA is opened before the port: its error names the file, and has nothing to do with where.
    return error
  }
  const code = (error as NodeJS.ErrnoException | null | undefined)?.code
  const where = `${addressHost(host)}:${port}`
  switch (code) {
    case 'EADDRINUSE':
      return new Error(
        `cannot listen on ${where}: the port is in use; stop what listens there or choose another --port`,
        { cause: error }
      )
    case 'EACCES':
      return new Error(
        `cannot listen on ${where}: permission denied; ports below 1024 need privileges, choose another --port`,
        { cause: error }
      )
    case 'ENOTFOUND':
      return new Error(
        `cannot listen on ${where}: ${host} is not an address or a known host name; check --host`,
        {
          cause: error,
        }
      )
    case 'EADDRNOTAVAIL':
      return new Error(`cannot listen on ${where}: no such address on this machine; check --host`, {
        cause: error,
      })
    default:
      return new Error(`cannot listen on ${where}: ${messageOf(error)}`, { cause: error })
  }
}

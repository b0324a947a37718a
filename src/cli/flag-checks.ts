/**
 * Serve flags checked against the library's own rules, so that the CLI refuses (exit code 2)
 * exactly what `createProxy` would, and shows what the library will use.
 * @module
 */
import { FixedResolver } from '../admission/resolvers'
import { messageOf, UsageError } from './io'

/** `--prefix`, as `FixedResolver` takes it: `archive` becomes `/archive/`. */
export function prefixFlag(value: string): string {
  try {
    return new FixedResolver(value).prefix
  } catch (error) {
    throw new UsageError(`--prefix: ${messageOf(error)}`, { cause: error })
  }
}

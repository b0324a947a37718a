/**
 * The options of `CertificateAuthority.open`: their defaults, in one place, and their checks.
 * @module
 */
import { resolve } from 'node:path'
import { OptionsError } from '../errors'

/** Options of `CertificateAuthority.open`. */
export interface CaOptions {
  /** Common name of the root, used when a new one is created. @default 'wsgiprox https proxy CA' */
  name?: string
  /** PEM file holding key + certificate; null = memory only. @default './ca/wsgiprox-ca.pem' */
  file?: string | null
  /**
   * How many host SecureContexts to keep (LRU), about 35 KB each. In the benchmark, with 1,000 of
   * them WebSocket echo ran 3-7% slower than with 50 under glibc malloc (alike under jemalloc),
   * while issuing an evicted host again costs about 1.2 ms.
   * @default 250
   */
  cacheSize?: number
  /** Optional directory where issued host certificates are stored so restarts are warm. @default null */
  certsDir?: string | null
}

/** The defaults of {@link CaOptions}. */
export const CA_DEFAULTS = {
  name: 'wsgiprox https proxy CA',
  file: './ca/wsgiprox-ca.pem',
  cacheSize: 250,
  certsDir: null,
} as const

/** RFC 5280 ub-common-name: the root's name must fit in its subject CN. */
const MAX_NAME_LENGTH = 64

/**
 * Options with their defaults filled in and paths made absolute.
 * @throws OptionsError naming the option and what it must be.
 */
export function resolveCaOptions(options: CaOptions) {
  for (const key of Object.keys(options)) {
    if (!(key in CA_DEFAULTS)) {
      throw new OptionsError(
        `unknown ca option ${JSON.stringify(key)}; the options are ${Object.keys(CA_DEFAULTS).join(', ')}`
      )
    }
  }
  const { name = CA_DEFAULTS.name, cacheSize = CA_DEFAULTS.cacheSize } = options
  const file = options.file === undefined ? CA_DEFAULTS.file : options.file
  const certsDir = options.certsDir ?? CA_DEFAULTS.certsDir
  if (typeof name !== 'string' || name === '' || name.length > MAX_NAME_LENGTH) {
    throw new OptionsError(
      `ca.name must be a non-empty string of at most ${MAX_NAME_LENGTH} characters`
    )
  }
  if (file !== null && (typeof file !== 'string' || file === '')) {
    throw new OptionsError('ca.file must be a file path, or null to keep the CA in memory')
  }
  if (!Number.isInteger(cacheSize) || cacheSize < 0) {
    throw new OptionsError(`ca.cacheSize must be a whole number >= 0, got ${String(cacheSize)}`)
  }
  if (certsDir !== null && (typeof certsDir !== 'string' || certsDir === '')) {
    throw new OptionsError('ca.certsDir must be a folder path, or null')
  }
  return {
    name,
    file: file === null ? null : resolve(file),
    cacheSize,
    certsDir: certsDir === null ? null : resolve(certsDir),
  }
}

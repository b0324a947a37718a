/**
 * What `startProxy` refuses. createProxy checks its options, but startProxy hands it its own
 * callbacks, apps and CA default in place of the test's, so the test's are checked here, as given.
 * @module
 */
import { describe } from '../admission/target'
import { OptionsError } from '../errors'
import { isApp } from '../option-checks'
import { checkKnownOptions, KNOWN_OPTIONS, normalizeOptions } from '../options'
import type { App, ProxyOptions } from '../types'
import { bodyLimitOption } from './seen'

/** Throw the OptionsError createProxy would for `options`, or one for a port listen cannot take. */
export function checkTestOptions(options: unknown): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    // Throws "options must be an object".
    normalizeOptions(options as ProxyOptions)
    return
  }
  checkKnownOptions(options, ['port', 'recordBodyLimit'])
  const { port, recordBodyLimit, ...proxyOptions } = options as ProxyOptions & {
    port?: unknown
    recordBodyLimit?: unknown
  }
  bodyLimitOption(recordBodyLimit)
  normalizeOptions(proxyOptions)
  checkPort(port === undefined ? 0 : port)
}

/**
 * A port `listen` takes: an integer from 0 to 65535, or its digits (a `PORT` from the
 * environment). Anything else would fail later, in Node's words or as an "Invalid URL".
 */
function checkPort(port: unknown): void {
  const number = typeof port === 'string' && /^\d{1,5}$/.test(port) ? Number(port) : port
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 0 || number > 65535) {
    throw new OptionsError(
      `port must be an integer from 0 to 65535 (0 for a free one), got ${typeof port === 'number' ? port : describe(port)}`
    )
  }
}

/**
 * `startProxy(app, options)` or `startProxy(options)`: the first argument is the options when it
 * is absent, or a plain object that is no app and is empty or names an option. Any other object
 * stays the app, to be refused as one (`{ get }` is an app missing its `fetch`, not options).
 */
export function splitArguments<Options extends object>(
  first: unknown,
  second: Options | undefined
): [App | undefined, Options | undefined] {
  if (first === undefined) {
    return [undefined, second]
  }
  const plain =
    typeof first === 'object' &&
    first !== null &&
    [Object.prototype, null].includes(Object.getPrototypeOf(first) as object | null)
  if (!plain || isApp(first)) {
    return [first as App, second]
  }
  const keys = Object.keys(first)
  const named =
    keys.length === 0 ||
    keys.some((key) => key === 'port' || key === 'recordBodyLimit' || KNOWN_OPTIONS.has(key))
  return named ? [undefined, first as Options] : [first as App, second]
}

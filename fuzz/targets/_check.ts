/**
 * What every fuzz target shares: a broken property throws a PropertyError with the input that
 * broke it, and an error of an expected type is let through (the input was refused, as it should
 * be) while any other error is a finding.
 * @module
 */
import { inspect } from 'node:util'

/** A property of the code under test did not hold. */
export class PropertyError extends Error {
  override name = 'PropertyError'
}

/** Throw a PropertyError naming `property` and the values involved unless `holds`. */
export function check(holds: boolean, property: string, details: Record<string, unknown>): void {
  if (!holds) {
    throw new PropertyError(`${property}\n${inspect(details, { depth: 4, breakLength: 100 })}`)
  }
}

/** `run()`, or `undefined` when it throws an instance of one of `expected`; other errors propagate. */
export function refusedAs<T>(
  expected: readonly (abstract new (...args: never[]) => Error)[],
  run: () => T
): T | undefined {
  try {
    return run()
  } catch (error) {
    if (expected.some((type) => error instanceof type)) {
      return undefined
    }
    throw error
  }
}

/** A request head as Node hands it over: method, target, version and raw header pairs. */
export interface RequestHead {
  method: string
  url: string
  httpVersionMajor: number
  rawHeaders: string[]
}

/** What llhttp lets through: a token as a header name, no control character but tab in a value. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// eslint-disable-next-line no-control-regex -- control characters are what it removes
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/g

/**
 * Read fuzz input as `METHOD TARGET HTTP/x` and `name: value` lines. This is input framing for the
 * fuzzer, not an HTTP parser: it drops what llhttp refuses (control characters, header names
 * that are not tokens), so the code under test sees what can reach it from a socket. Strings are
 * latin1, as Node decodes heads.
 */
export function requestHead(text: string): RequestHead {
  const [first = '', ...lines] = text.split(/\r?\n/)
  const [method = 'GET', url = '/', version = 'HTTP/1.1'] = first
    .replace(/[\t\x7f]/g, '')
    .replace(CONTROL, '')
    .split(' ')
  const rawHeaders: string[] = []
  for (const line of lines) {
    const colon = line.indexOf(':', 1)
    const name = line.slice(0, colon)
    if (colon === -1 || !(TOKEN.test(name) || (version === 'HTTP/2' && /^:[a-z]+$/.test(name)))) {
      continue
    }
    rawHeaders.push(
      name,
      line
        .slice(colon + 1)
        .replace(CONTROL, '')
        .trim()
    )
  }
  return { method, url, httpVersionMajor: version === 'HTTP/2' ? 2 : 1, rawHeaders }
}

/** The `headers` object Node builds from raw headers: lower-case names, repeats joined. */
export function headersOf(rawHeaders: readonly string[]): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = Object.create(null) as Record<
    string,
    string | string[]
  >
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase()
    const value = rawHeaders[i + 1] ?? ''
    const known = headers[name]
    if (name === 'set-cookie') {
      headers[name] = [...(Array.isArray(known) ? known : []), value]
    } else if (known === undefined) {
      headers[name] = value
    } else if (name !== 'host' && name !== 'authorization' && name !== 'proxy-authorization') {
      headers[name] = `${String(known)}, ${value}`
    }
  }
  return headers
}

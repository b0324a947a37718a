/**
 * Lookup keys of archived URLs (urlKeys): any string, from a client or an index, gets two keys
 * and never an error, and the things a key is meant to ignore (scheme, default port, letter
 * case, query order, an empty `?`, a fragment, cache-busting parameters) change neither.
 */
import { check } from './_check'
import { CACHE_BUSTING_PARAMS, urlKeys } from './_imports'

const SPECIAL = /^https?:\/\//i

/**
 * What the loose key may drop, as docs/replay.md words it: a cache-busting name, with or without
 * leading underscores, or a value only made to be unique (a Unix time in seconds or
 * milliseconds, with or without a fraction; a `Math.random()`; a jQuery callback name).
 */
function cacheBusting(part: string): boolean {
  const [name = '', ...value] = part.split('=')
  const bare = /^_+$/.test(name) ? '_' : name.replace(/^_+/, '')
  return (
    CACHE_BUSTING_PARAMS.has(bare) ||
    (value.length > 0 && /^(\d{10}(\d{3})?(\.\d+)?|0\.\d{6,}|jquery\d+_\d+)$/.test(value.join('=')))
  )
}

export function fuzz(data: Buffer): void {
  const url = data.toString('utf8')
  const keys = urlKeys(url)
  const details = { url, keys }
  check(
    typeof keys.exact === 'string' && typeof keys.loose === 'string',
    'every string has two keys',
    details
  )
  check(keys.exact === keys.exact.toLowerCase(), 'a key has no upper-case letter', details)
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    check(
      keys.exact === url.toLowerCase() && keys.loose === keys.exact,
      'a string that is no URL is its own key, lower-cased',
      details
    )
    return
  }
  check(!keys.exact.includes('#'), 'a key has no fragment', details)
  const [base, query] = splitQuery(keys.exact)
  const [looseBase, looseQuery] = splitQuery(keys.loose)
  check(looseBase === base, 'both keys have the same path', details)
  const exactParams = query?.split('&') ?? []
  const looseParams = looseQuery?.split('&') ?? []
  check(
    looseParams.every((part) => exactParams.includes(part)) &&
      exactParams.filter((part) => !looseParams.includes(part)).every(cacheBusting),
    'the loose key drops cache-busting parameters and nothing else',
    details
  )
  check(!exactParams.includes(''), 'no empty parameter, no empty query', details)
  if (!SPECIAL.test(url) || parsed.username !== '' || parsed.password !== '') {
    return
  }
  check(/^[\x21-\x7e]*$/.test(keys.exact), 'the key of a web URL is printable ASCII', details)
  const params = parsed.search.slice(1).split('&').reverse()
  const defaultPort = parsed.protocol === 'http:' ? '80' : '443'
  const variants = [
    // The other scheme, and the default port written out.
    `${parsed.protocol === 'http:' ? 'https' : 'http'}://${parsed.host}${parsed.pathname}${parsed.search}`,
    `${parsed.protocol}//${parsed.hostname}:${parsed.port || defaultPort}${parsed.pathname}${parsed.search}`,
    // Upper-case host, the query backwards, a fragment.
    `${parsed.protocol}//${parsed.host.toUpperCase()}${parsed.pathname}?${params.join('&')}#Frag`,
  ]
  for (const variant of variants) {
    const again = urlKeys(variant)
    check(
      again.exact === keys.exact && again.loose === keys.loose,
      'scheme, default port, host case, query order and fragment do not change the keys',
      { ...details, variant, again }
    )
  }
}

function splitQuery(key: string): [string, string | undefined] {
  const mark = key.indexOf('?')
  return mark === -1 ? [key, undefined] : [key.slice(0, mark), key.slice(mark + 1)]
}

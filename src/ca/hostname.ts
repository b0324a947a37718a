/**
 * Host names as certificates need them: validated, in punycode, and the name a certificate is
 * issued for (a wildcard for the parent domain when that is allowed).
 * @module
 */
import { getPublicSuffix } from 'tldts'
import { isIPv4, isIPv6 } from 'node:net'
import { domainToASCII } from 'node:url'
import { InvalidHostError } from '../errors'

/** What a host is, and its canonical spelling. */
export interface NormalizedHost {
  /** A DNS name (in punycode), an IPv4 address or an IPv6 address. */
  kind: 'dns' | 'ipv4' | 'ipv6'
  /** Lower-case punycode without a trailing dot; IPv4 dotted quad; IPv6 compressed, no brackets. */
  name: string
}

/** RFC 1035 limits: 253 characters in all (without the trailing dot), 63 per label. */
const MAX_NAME_LENGTH = 253
// Letters, digits and hyphens (no hyphen at either end), plus the underscore that real host names
// carry even though RFC 952 forbids it (`my_host.example.com`); clients match it literally.
const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/
/** Any ASCII character that no host name holds: controls, space, '/', '?', '#', '\\', '@', ':'... */
// eslint-disable-next-line no-control-regex -- control characters are what it refuses
const FORBIDDEN_ASCII = /[\x00-\x2c/:-@[-^`{-\x7f]/
// eslint-disable-next-line no-control-regex -- the whole ASCII range, NUL included
const ASCII = /^[\x00-\x7f]*$/
/** Labels UTS #46 would check as punycode. */
const PUNYCODE_LABEL = /(?:^|\.)xn--/i
/** A last label that WHATWG URL reads as a number, making the host an IPv4 address. */
const NUMERIC_LABEL = /^(?:0x[0-9a-f]*|\d+)$/i

/**
 * Whether UTS #46 would give `host` (ASCII letters, digits, '-', '_', '.') back only lower-cased:
 * no punycode label to check, and a last label that is not a number.
 */
function isPlainDnsName(host: string): boolean {
  if (!ASCII.test(host)) {
    return false
  }
  const trimmed = host.endsWith('.') ? host.slice(0, -1) : host
  return (
    !PUNYCODE_LABEL.test(trimmed) &&
    !NUMERIC_LABEL.test(trimmed.slice(trimmed.lastIndexOf('.') + 1))
  )
}

/**
 * Validates and canonicalises a host name or IP address.
 * IDNs become punycode (`bücher.de` → `xn--bcher-kva.de`), letters become lower case, a trailing
 * dot goes, IPv6 brackets go, and IPv4 shorthand reads as browsers read it (`127.1` → `127.0.0.1`).
 * @throws InvalidHostError when the host is not a DNS name, an IPv4 or an IPv6 address.
 * @example normalizeHost('[::1]') // { kind: 'ipv6', name: '::1' }
 */
export function normalizeHost(host: string): NormalizedHost {
  if (host === '') {
    throw new InvalidHostError(host, 'the host is empty')
  }
  const bracketed = host.startsWith('[') && host.endsWith(']')
  const bare = bracketed ? host.slice(1, -1) : host
  if (isIPv6(bare)) {
    // The WHATWG URL host parser gives the compressed, lower-case form: one cache key per address.
    // It refuses zone identifiers (`fe80::1%eth0`), which no certificate can name.
    const canonical = domainToASCII(`[${bare}]`)
    if (canonical === '') {
      throw new InvalidHostError(host, 'an IPv6 address in a certificate has no zone identifier')
    }
    return { kind: 'ipv6', name: canonical.slice(1, -1) }
  }
  if (bracketed) {
    throw new InvalidHostError(host, 'brackets must hold an IPv6 address')
  }
  // domainToASCII stops at '/', '?', '#' and '\\' and returns what came before
  // (`a.com/evil` gives `a.com`), so every ASCII character is checked here first: a name is
  // refused whole, never truncated. Other characters are left to UTS #46, which refuses those
  // that map to separators (a fullwidth solidus gives '').
  const forbidden = FORBIDDEN_ASCII.exec(host)
  if (forbidden) {
    throw new InvalidHostError(
      host,
      `it may hold only letters, digits, '-', '_' and '.', not ${JSON.stringify(forbidden[0])}`
    )
  }
  const ascii = isPlainDnsName(host) ? host.toLowerCase() : domainToASCII(host)
  if (ascii === '') {
    throw new InvalidHostError(host, 'it is not a DNS name, IPv4 or IPv6 address')
  }
  if (isIPv4(ascii)) {
    return { kind: 'ipv4', name: ascii }
  }
  const name = ascii.endsWith('.') ? ascii.slice(0, -1) : ascii
  if (name.length > MAX_NAME_LENGTH) {
    throw new InvalidHostError(host, `a DNS name has at most ${MAX_NAME_LENGTH} characters`)
  }
  for (const label of name.split('.')) {
    if (!LABEL.test(label)) {
      throw new InvalidHostError(host, labelProblem(label))
    }
  }
  return { kind: 'dns', name }
}

function labelProblem(label: string): string {
  if (label === '') {
    return 'a DNS name has no empty labels'
  }
  if (label.length > 63) {
    return `the label ${JSON.stringify(label.slice(0, 20) + '...')} is longer than 63 characters`
  }
  return `the label ${JSON.stringify(label)} may hold only letters, digits, '-' and '_', and no '-' at either end`
}

/**
 * The name a certificate for host is issued under, which is also its cache key.
 * With wildcard, `a.b.example.com` gets `*.b.example.com` so one certificate serves every sibling;
 * the parent must not be a public suffix (browsers reject `*.co.uk`, CA/B Forum BR 3.2.2.6) and
 * needs two labels (`example.com` keeps its own name, never `*.com`). IP addresses never get one.
 * @param host - a host name or address, normalised first (see {@link normalizeHost}).
 * @param wildcard - whether a wildcard may be used.
 * @throws InvalidHostError for an invalid host.
 * @example certificateName('x.co.uk', true) // 'x.co.uk'
 */
export function certificateName(host: string | NormalizedHost, wildcard: boolean): string {
  const { kind, name } = typeof host === 'string' ? normalizeHost(host) : host
  const parent = kind === 'dns' && wildcard ? wildcardParent(name) : undefined
  return parent === undefined ? name : `*.${parent}`
}

function wildcardParent(name: string): string | undefined {
  const dot = name.indexOf('.')
  const parent = name.slice(dot + 1)
  if (dot < 0 || !parent.includes('.')) {
    return undefined
  }
  // ICANN suffixes only, with the default '*' rule for unknown TLDs (`b.test` is a suffix of
  // itself): Chromium refuses wildcards over those, while private registries such as
  // `github.io` may have them. Hostnames are validated above, so tldts need not do it again.
  const suffix = getPublicSuffix(parent, {
    allowPrivateDomains: false,
    extractHostname: false,
    validateHostname: false,
  })
  return suffix === parent ? undefined : parent
}

/** The iPAddress form (RFC 5280 4.2.1.6): 4 or 16 octets, network byte order. */
export function ipAddressBytes(host: NormalizedHost): Uint8Array {
  if (host.kind === 'ipv4') {
    return new Uint8Array(host.name.split('.').map(Number))
  }
  // normalizeHost gives the compressed hexadecimal form, so only '::' needs expanding.
  const [head = '', tail] = host.name.split('::')
  const groups = (part: string | undefined) => (part ? part.split(':') : [])
  const left = groups(head)
  const right = groups(tail)
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
  const bytes = new Uint8Array(16)
  all.forEach((group, i) => {
    const value = parseInt(group, 16)
    bytes[i * 2] = value >> 8
    bytes[i * 2 + 1] = value & 0xff
  })
  return bytes
}

/**
 * Host validation (normalizeHost, validHost): every host a client names (CONNECT, Host, SNI,
 * SOCKS5, an absolute URL) passes through it before it keys a certificate or a route.
 */
import { isIPv4, isIPv6 } from 'node:net'
import { check, refusedAs } from './_check'
import { InvalidHostError, normalizeHost, validHost } from './_imports'

const DNS_NAME = /^(?:(?!-)[a-z0-9_-]{1,63}(?<!-))(?:\.(?!-)[a-z0-9_-]{1,63}(?<!-))*$/
// eslint-disable-next-line no-control-regex -- the ASCII range, NUL included
const ASCII = /^[\x00-\x7f]*$/
/** The characters UTS #46 reads as a label separator. */
const DOTS = /[.\u3002\uff0e\uff61]/

export function fuzz(data: Buffer): void {
  const input = data.toString('utf8')
  const host = refusedAs([InvalidHostError], () => normalizeHost(input))
  const valid = validHost(input)
  check(valid === host?.name, 'validHost agrees with normalizeHost', { input, host, valid })
  check(validHost(input) === valid, 'validHost answers the same twice', { input, valid })
  if (host === undefined) {
    return
  }
  const { kind, name } = host
  const again = refusedAs([InvalidHostError], () => normalizeHost(name))
  check(again?.name === name && again.kind === kind, 'a normalised host is its own normal form', {
    input,
    host,
    again,
  })
  if (kind === 'ipv6') {
    check(isIPv6(name) && !name.includes('%'), 'an IPv6 host is a bare address, no zone', {
      input,
      name,
    })
    check(normalizeHost(`[${name}]`).name === name, 'its bracketed form normalises to it', {
      input,
      name,
    })
    return
  }
  if (kind === 'ipv4') {
    check(isIPv4(name), 'an IPv4 host is a dotted quad', { input, name })
    check(!ASCII.test(input) || /^[0-9a-fx.]+$/i.test(input), 'only numbers read as IPv4', {
      input,
      name,
    })
    return
  }
  check(DNS_NAME.test(name) && name.length <= 253, 'a DNS name is LDH labels in punycode', {
    input,
    name,
  })
  if (ASCII.test(input)) {
    // Nothing but letters, digits, '-', '_' and '.' is accepted, and nothing is cut or added.
    check(/^[A-Za-z0-9_.-]+$/.test(input), 'a name with other ASCII characters is refused', {
      input,
      name,
    })
    check(name === input.toLowerCase().replace(/\.$/, ''), 'an ASCII name is kept whole', {
      input,
      name,
    })
    return
  }
  // UTS #46 maps and punycodes labels; it may split one (U+2488 is '1.'), never drop one.
  const labels = name.split('.')
  const asciiLabels = input
    .split(DOTS)
    .filter((label, i, all) => ASCII.test(label) && !(label === '' && i === all.length - 1))
  for (const label of asciiLabels) {
    check(labels.includes(label.toLowerCase()), 'every ASCII label of the input survives', {
      input,
      name,
      label,
    })
  }
}

/**
 * The app-response guard's header cleaning (cleanHeaders, headerFault, isSendableStatus): an app
 * may answer with any status and any headers, and what reaches the socket has no hop-by-hop
 * header and at most one Content-Length, the one the body is held to.
 * Input: `STATUS METHOD [h2] [pairs] [num]` on the first line, then `name: value` lines; `h2`
 * answers over HTTP/2, `pairs` gives the headers as a flat array, `num` makes digit values numbers.
 */
import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import { isDeepStrictEqual } from 'node:util'
import { check } from './_check'
import { cleanHeaders, headerFault, isSendableStatus } from './_imports'
import type { HeaderBag, HeadersOwner } from './_imports'

/** RFC 9110 §7.6.1 and RFC 9113 §8.2.2: what describes one connection, and Trailer. */
const HOP_BY_HOP = new Set(
  'connection keep-alive proxy-connection transfer-encoding te trailer upgrade http2-settings'.split(
    ' '
  )
)

/** A header's values as strings: a flat array gives every value as an array of one or more. */
const texts = (value: HeaderBag[string]): string[] => [value ?? []].flat().map(String)

export function fuzz(data: Buffer): void {
  const [first = '', ...lines] = data.toString('latin1').split('\n')
  const [statusText = '200', method = 'GET', ...flags] = first.split(' ')
  for (const status of [Number(statusText), statusText, Number.parseFloat(statusText)]) {
    const sendable = isSendableStatus(status)
    const integral = typeof status === 'number' && Number.isInteger(status)
    check(
      sendable === (integral && status >= 200 && status <= 599),
      'a sendable status is a whole number from 200 to 599',
      { status, sendable }
    )
  }
  const status = Number(statusText)
  if (!isSendableStatus(status)) {
    return
  }
  const pairs: string[] = []
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon === -1) {
      continue
    }
    pairs.push(line.slice(0, colon), line.slice(colon + 1).replace(/^ /, ''))
  }
  // A flat array holds strings only: `num` makes numbers of the bag's values alone, so that the
  // bag, which the checks below compare against, says what the app gave.
  const numbers = flags.includes('num') && !flags.includes('pairs')
  const bag: HeaderBag = Object.create(null) as HeaderBag
  for (let i = 0; i < pairs.length; i += 2) {
    const [name = '', text = ''] = [pairs[i], pairs[i + 1]]
    const value = numbers && /^\d{1,15}$/.test(text) ? Number(text) : text
    const known = bag[name]
    bag[name] = known === undefined ? value : [...[known].flat().map(String), String(value)]
  }
  const given = flags.includes('pairs') ? pairs : bag
  const before = JSON.stringify(given)
  const h2 = flags.includes('h2')
  const res: HeadersOwner = { req: { method }, ...(h2 ? {} : { shouldKeepAlive: true }) }
  const reports: Error[] = []
  const result = cleanHeaders(res, given, status, (error) => reports.push(error))
  const { headers, declared } = result
  const details = { given, status, method, flags, result }
  check(JSON.stringify(given) === before, 'the app’s headers are left as they were', details)
  check(headers !== undefined, 'headers given are headers returned', details)
  check(
    cleanHeaders(res, undefined, status, () => undefined).headers === undefined,
    'no headers given are none returned',
    details
  )
  const entries = Object.entries(headers ?? {}).filter(([, value]) => value !== undefined)
  const connection = new Set(
    Object.entries(bag)
      .filter(([name]) => name.toLowerCase() === 'connection')
      .flatMap(([, value]) => [value ?? ''].flat().join(',').split(','))
      .map((token) => token.trim().toLowerCase())
  )
  for (const [name] of entries) {
    const lower = name.toLowerCase()
    check(!HOP_BY_HOP.has(lower), 'no hop-by-hop header is sent', { ...details, name })
    check(!connection.has(lower), 'no header that Connection names is sent', { ...details, name })
  }
  const lengths = entries.filter(([name]) => name.toLowerCase() === 'content-length')
  check(lengths.length <= 1, 'at most one Content-Length is sent', details)
  if (declared !== undefined) {
    check(
      lengths.length === 1 && String(lengths[0]?.[1]) === String(declared),
      'the Content-Length sent is the one the body is held to',
      details
    )
  }
  if (status === 204) {
    check(lengths.length === 0, 'a 204 has no Content-Length', details)
  }
  for (const [name, value] of entries) {
    if (name.toLowerCase() !== 'content-length') {
      const source = bag
      check(
        Object.hasOwn(source, name) && isDeepStrictEqual(texts(value), texts(source[name])),
        'other headers are sent as the app gave them',
        { ...details, name }
      )
    }
  }
  if (!h2) {
    check(
      res.shouldKeepAlive === !connection.has('close'),
      'the connection closes after the response exactly when the app asked',
      details
    )
    // headerFault is Node's own judgement of a head: Node writes what it passes, refuses the rest.
    const fault = headerFault(headers)
    const response = new ServerResponse(new IncomingMessage(new Socket()))
    let refused: unknown
    try {
      response.writeHead(status, headers as Record<string, string | number | string[]>)
    } catch (error) {
      refused = error
    }
    check(
      (fault === undefined) === (refused === undefined),
      'headerFault finds a fault exactly when Node refuses the head',
      { ...details, fault, refused }
    )
  }
}

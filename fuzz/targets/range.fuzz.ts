/**
 * The `Range` header of a replayed request (rangeOf): whatever the client sends, a partial
 * answer lies inside the body, and the bytes it names are the ones the header asks for.
 * Input: the body length on the first line, the header value after it.
 */
import { check } from './_check'
import { rangeOf } from './_imports'

/** One `first-last` range in the only form rangeOf serves; anything else is answered whole. */
const ONE_RANGE = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i

export function fuzz(data: Buffer): void {
  const text = data.toString('latin1')
  const newline = text.indexOf('\n')
  const length =
    newline === -1 ? 100 : Math.abs(Number.parseInt(text.slice(0, newline), 10) % 1_000_000) || 0
  const header = newline === -1 ? text : text.slice(newline + 1)
  const answer = rangeOf(header, length)
  const details = { header, length, answer }
  check(rangeOf(null, length).kind === 'whole', 'no header is the whole body', details)
  if (answer.kind === 'partial') {
    const { start, end } = answer
    check(
      Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0,
      'a range is whole numbers from zero',
      details
    )
    check(start <= end && end < length, 'a range lies inside the body', details)
  }
  const match = ONE_RANGE.exec(header)
  if (!match || (match[1] === '' && match[2] === '')) {
    check(answer.kind === 'whole', 'anything but one byte range is answered whole', details)
    return
  }
  const [first, last] = [match[1] ?? '', match[2] ?? ''].map((digits) =>
    digits === '' ? undefined : Number(digits)
  )
  if (first === undefined) {
    // bytes=-N: the last N bytes, or 416 when there are none to give.
    const n = last ?? 0
    const expected = n === 0 || length === 0 ? undefined : Math.min(n, length)
    check(
      expected === undefined
        ? answer.kind === 'unsatisfiable'
        : answer.kind === 'partial' &&
            answer.end === length - 1 &&
            answer.end - answer.start + 1 === expected,
      'a suffix range is the last N bytes',
      details
    )
    return
  }
  if (first >= length) {
    check(answer.kind === 'unsatisfiable', 'a range past the end is 416', details)
  } else if (last !== undefined && last < first) {
    check(answer.kind === 'whole', 'a backwards range is ignored', details)
  } else {
    check(
      answer.kind === 'partial' &&
        answer.start === first &&
        answer.end === Math.min(last ?? length - 1, length - 1),
      'a range starts where asked and ends where asked or at the end',
      details
    )
  }
}

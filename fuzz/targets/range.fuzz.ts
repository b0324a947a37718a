/**
 * The `Range` header of a replayed request (rangeOf): whatever the client sends, a partial
 * answer lies inside the body, and the bytes it names are the ones the header asks for; and
 * against the middle third of the body captured as a `206` part (partAnswer), an answer is
 * inside the part and starts where rangeOf's does.
 * Input: the body length on the first line, the header value after it.
 */
import { check } from './_check'
import { partAnswer, rangeOf } from './_imports'

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
  checkPart(header, length)
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

/** A captured part of the middle third of the body: what answers from it lies inside it. */
function checkPart(header: string, length: number): void {
  if (length < 3) {
    return
  }
  const [first, last] = [Math.floor(length / 3), Math.floor((2 * length) / 3) - 1]
  const held = last - first + 1
  const part = partAnswer(`bytes ${first}-${last}/${length}`, header, held)
  const asked = rangeOf(header, length)
  const details = { header, length, first, last, part, asked }
  check(
    partAnswer(`bytes ${first}-${last}/${length}`, header, held + 1) === undefined,
    'a part of another length than its Content-Range is sent as captured',
    details
  )
  if (asked.kind === 'whole') {
    check(part === undefined, 'a request the body answers whole gets the part as captured', details)
  } else if (asked.kind === 'partial' && asked.start >= first && asked.start <= last) {
    check(
      part?.kind === 'within' &&
        part.start === asked.start &&
        part.end === Math.min(asked.end, last) &&
        part.first === first,
      'a range starting in the part is answered from it, up to its end',
      details
    )
  } else {
    check(part?.kind === 'outside', 'a range starting outside the part is not answered', details)
  }
}

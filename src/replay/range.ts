/**
 * `Range: bytes=...` (RFC 9110 section 14): one range is served as `206`; a range that starts
 * past the end gets `416`; several ranges, or another unit, get the whole body (`200`), which
 * the RFC allows.
 * @see https://www.rfc-editor.org/rfc/rfc9110#name-range-requests
 * @module
 */

/** The answer to a Range header for a body of `length` bytes. */
export type RangeAnswer =
  { kind: 'whole' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' }

/** What to send for `header` over a body of `length` bytes; `end` is inclusive. */
export function rangeOf(header: string | null, length: number): RangeAnswer {
  const match = header && /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header)
  if (!match || (match[1] === '' && match[2] === '')) {
    return { kind: 'whole' }
  }
  const [first, last] = [match[1] ?? '', match[2] ?? '']
  if (first === '') {
    // A suffix: the last N bytes.
    const n = Number(last)
    return n === 0 || length === 0
      ? { kind: 'unsatisfiable' }
      : { kind: 'partial', start: Math.max(0, length - n), end: length - 1 }
  }
  const start = Number(first)
  const end = last === '' ? length - 1 : Math.min(Number(last), length - 1)
  if (start >= length) {
    return { kind: 'unsatisfiable' }
  }
  return end < start ? { kind: 'whole' } : { kind: 'partial', start, end }
}

/**
 * Whether a `Content-Range` spans the whole of a body of `length` bytes (or of its complete
 * length, when the body's own is not known without reading it).
 */
export function coversWhole(contentRange: string, length: number | undefined): boolean {
  const match = /^\s*bytes\s+0\s*-\s*(\d+)\s*\/\s*(\d+)\s*$/i.exec(contentRange)
  const [end, complete] = [Number(match?.[1]), Number(match?.[2])]
  return match !== null && end + 1 === complete && (length === undefined || length === complete)
}

/** What a captured part of a body (a `206` capture) answers to a range asked of it. */
export type PartAnswer =
  /** Bytes `start` to `end` (inclusive, of the complete body) are in the part, which starts at `first`. */
  | { kind: 'within'; start: number; end: number; complete: number; first: number }
  /** The asked range does not start in the part: another capture, or `416`. */
  | { kind: 'outside'; complete: number }

/**
 * How a captured `206` holding `Content-Range: bytes <first>-<last>/<complete>` answers `header`:
 * the asked range, cut to the part, when it starts in the part (a server may send less than was
 * asked; the client asks again for the rest), or `outside`. `undefined` when the captured header
 * is not one such range, its part is not `held` bytes long, or `header` asks for no single range:
 * the capture is then sent as captured.
 */
export function partAnswer(
  contentRange: string,
  header: string,
  held: number | undefined
): PartAnswer | undefined {
  const match = /^\s*bytes\s+(\d+)\s*-\s*(\d+)\s*\/\s*(\d+)\s*$/i.exec(contentRange)
  const [first, last, complete] = [Number(match?.[1]), Number(match?.[2]), Number(match?.[3])]
  if (
    !match ||
    last < first ||
    last >= complete ||
    (held !== undefined && held !== last - first + 1)
  ) {
    return undefined
  }
  const asked = rangeOf(header, complete)
  if (asked.kind === 'whole') {
    return undefined
  }
  if (asked.kind === 'unsatisfiable' || asked.start < first || asked.start > last) {
    return { kind: 'outside', complete }
  }
  return { kind: 'within', start: asked.start, end: Math.min(asked.end, last), complete, first }
}

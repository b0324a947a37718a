/**
 * Counting in words, for banners and pages.
 * @module
 */
/** `1 page`, `2 pages`: a count and its noun, plural unless the count is one. */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}

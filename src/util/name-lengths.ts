/**
 * A quick "can this be one of these names?" for the header checks on the request path: a name
 * whose length none of them has is passed over without being lower-cased (which allocates for
 * the common `User-Agent`, `Content-Type`, ...). Built from the names themselves, so a name added
 * to a set is never missed.
 * @module
 */

/** Which name lengths occur among `names`, indexed by length. */
export function lengthsOf(names: Iterable<string>): readonly boolean[] {
  const lengths: boolean[] = []
  for (const name of names) {
    lengths[name.length] = true
  }
  return lengths
}

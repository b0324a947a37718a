/**
 * The pages of a collection: what the proxy host's listing shows and the banner counts. From a
 * WACZ's `pages/pages.jsonl` when it has one, else from the HTML captures (status 200, GET).
 * @module
 */

/** One page a user can open. */
export interface Page {
  url: string
  /** Capture time, seconds since the epoch. */
  time: number
  title?: string | undefined
}

/** Pages by URL; a URL captured several times is listed once, at its latest capture. */
export class PageList {
  readonly #pages = new Map<string, Page>()

  get size(): number {
    return this.#pages.size
  }

  add(page: Page): void {
    const known = this.#pages.get(page.url)
    if (!known || known.time < page.time) {
      // A URL read from a record is a slice of its whole header block, which V8 keeps alive
      // with it: a copy keeps only the URL.
      const url = known?.url ?? Buffer.from(page.url).toString()
      this.#pages.set(url, { ...page, url, title: page.title ?? known?.title })
    }
  }

  /** The pages sorted by URL. */
  list(): Page[] {
    return [...this.#pages.values()].sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0))
  }
}

/** Whether a capture is a page: an HTML answer a user would open, not a resource of one. */
export function isPage(mime: string | null | undefined, status: number | undefined): boolean {
  return (
    (status === undefined || status === 200) &&
    /^\s*(text\/html|application\/xhtml\+xml)\b/i.test(mime ?? '')
  )
}

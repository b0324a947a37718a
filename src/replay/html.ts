/**
 * The replay's own pages: the list of collections and their pages (on the proxy host), the
 * answer for a URL that is not archived, and the one for a collection that does not exist.
 * @module
 */
import { count } from '../util/count'
import type { Collection } from './collection'
import { httpDate } from './memento'
import type { Page } from './pages'

/**
 * The most pages the not-archived page lists. A large crawl has tens of thousands, and every
 * archived page asks for URLs that were never captured (trackers, a favicon): listing them all
 * made each such 404 some 11 MB for 50,000 pages, and 100 of them took 28 s.
 */
const PAGES_LISTED = 50

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c)

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
code{background:#f3f3f3;padding:0 .2em}li{margin:.2em 0}small{color:#666}</style></head>
<body>
<h1>${escape(title)}</h1>
${body}
</body>
</html>
`
}

/** How a user reaches a collection through the proxy. */
function howToPick(collections: readonly Collection[]): string {
  return collections.length > 1
    ? '<p>Set the proxy user name to the collection name (any password), for example ' +
        `<code>http://${escape(collections[0]?.name ?? 'name')}:any@127.0.0.1:8080</code>.</p>`
    : ''
}

function pageList(pages: readonly Page[]): string {
  const items = pages
    .map(
      (p) =>
        `<li><a href="${escape(p.url)}">${escape(p.title ?? p.url)}</a> <small>${escape(p.title ? p.url + ', ' : '')}${escape(httpDate(p.time))}</small></li>`
    )
    .join('\n')
  return items ? `<ul>\n${items}\n</ul>` : '<p>No HTML pages in this collection.</p>'
}

/** The proxy host's home: every collection and its pages. */
export function collectionsPage(collections: readonly Collection[]): string {
  const sections = collections
    .map(
      (c) =>
        `<h2>${escape(c.name)}</h2>\n<p><small>${escape(c.path)}: ${count(c.index.size, 'capture')}, ${count(c.pages.length, 'page')}</small></p>\n${pageList(c.pages)}`
    )
    .join('\n')
  return page(
    'Archived pages',
    `<p>Open a page below through this proxy: it is served from the archive, never from the web.</p>
${howToPick(collections)}
${sections}`
  )
}

/**
 * The 404 for a URL the collection has no capture of: with the collection's pages on the URL's
 * host, or else its first pages, at most {@link PAGES_LISTED}.
 */
export function notArchivedPage(url: string, collection: Collection): string {
  const all = collection.pages
  const host = /^https?:\/\/([^/?#]+)/i.exec(url)?.[1]?.toLowerCase()
  const near = host
    ? [`http://${host}/`, `https://${host}/`].flatMap((prefix) => startingWith(all, prefix))
    : []
  const listed = (near.length > 0 ? near : all).slice(0, PAGES_LISTED)
  const where = near.length > 0 && host ? ` on <b>${escape(host)}</b>` : ''
  const more =
    listed.length < all.length
      ? `<p>${listed.length} of ${count(all.length, 'page')}; the proxy host's own page lists them all.</p>`
      : ''
  return page(
    'Not in the archive',
    `<p><code>${escape(url)}</code> is not archived in the collection <b>${escape(collection.name)}</b>.
Nothing was fetched from the live web.</p>
<p>Archived pages${where} in this collection:</p>
${pageList(listed)}
${more}`
  )
}

/** The first {@link PAGES_LISTED} pages whose URL starts with `prefix`, found in the sorted list. */
function startingWith(pages: readonly Page[], prefix: string): Page[] {
  let [low, high] = [0, pages.length]
  while (low < high) {
    const middle = (low + high) >>> 1
    if ((pages[middle]?.url ?? '') < prefix) {
      low = middle + 1
    } else {
      high = middle
    }
  }
  const found: Page[] = []
  for (let i = low; found.length < PAGES_LISTED; i++) {
    const next = pages[i]
    if (!next?.url.startsWith(prefix)) {
      break
    }
    found.push(next)
  }
  return found
}

/** The 404 for a proxy user name that names no collection. */
export function unknownCollectionPage(name: string, collections: readonly Collection[]): string {
  const names = collections.map((c) => `<li><code>${escape(c.name)}</code></li>`).join('\n')
  return page(
    'No such collection',
    `<p>There is no collection named <code>${escape(name)}</code>. The collections are:</p>
<ul>
${names}
</ul>
${howToPick(collections)}
<p>A browser keeps the proxy login it was given until it restarts: restart it, or open a
private window, to log in with another name.</p>`
  )
}

/**
 * warcio writes what it finds wrong in a WARC with `console.warn` (a record longer than its
 * `Content-Length`) and `console.log`: text on the proxy's stderr and stdout that names no file.
 * While an archive is indexed, those messages are routed to the indexer instead, which says it
 * in a warning line of its own; any other message, and every one printed outside indexing, goes
 * to the console as before.
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks'

/** What warcio 2.4 prints: only these are routed, whoever else prints while indexing runs. */
const WARCIO_MESSAGES = /^(Content-Length Too Small: |Already have chunk!)/

const route = new AsyncLocalStorage<(message: string) => void>()
let installed = false

/** Run `work` with what warcio prints while it runs given to `heard` instead. */
export function hearWarcio<T>(
  heard: (message: string) => void,
  work: () => Promise<T>
): Promise<T> {
  if (!installed) {
    installed = true
    for (const method of ['warn', 'log'] as const) {
      const original = console[method].bind(console)
      console[method] = (...args: unknown[]) => {
        const to = route.getStore()
        const message = args.map(String).join(' ')
        if (to && WARCIO_MESSAGES.test(message)) {
          // Out of the route: what `to` prints itself goes to the console.
          route.exit(() => {
            to(message)
          })
        } else {
          original(...args)
        }
      }
    }
  }
  return route.run(heard, work)
}

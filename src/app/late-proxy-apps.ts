/**
 * Proxy apps added to a running proxy: the test kit's `setProxyApp` for a host that was not
 * named when it started. Not public: `createProxy`'s hosts are fixed by its options, and only
 * the kit, which owns the proxy it made, adds to them.
 * @module
 */
import type { Proxy } from '../types'
import type { Handler } from './fetch-handler'

/** Make `host` a proxy host of the proxy, answered by `handler` first. */
type AddProxyApp = (host: string, handler: Handler) => void

const adders = new WeakMap<Proxy, AddProxyApp>()

/** Let {@link addProxyApp} add hosts to `proxy` through `add`. */
export function allowLateProxyApps(proxy: Proxy, add: AddProxyApp): void {
  adders.set(proxy, add)
}

/** From the next request on, `host` is a proxy host of `proxy` whose requests `handler` takes first. */
export function addProxyApp(proxy: Proxy, host: string, handler: Handler): void {
  const add = adders.get(proxy)
  if (!add) {
    throw new Error('this proxy was not made by createProxy')
  }
  add(host, handler)
}

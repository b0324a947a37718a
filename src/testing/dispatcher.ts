/**
 * The undici dispatcher a test gives `fetch` in its own process: through the proxy and trusting
 * its CA, with loopback sent direct as `NO_PROXY` sends it for child processes; and, when the
 * test made it the global dispatcher, the one that was global before once it is closed.
 * @module
 */
import type { Dispatcher } from 'undici'
import { NO_PROXY } from './env'

/** The dispatcher, and what ends it. */
export interface TestDispatcher {
  readonly dispatcher: Dispatcher
  /** Destroy the dispatcher; if it is the global one, put back the one that was global first. */
  close(): Promise<void>
}

/**
 * A dispatcher through `proxyUrl` that trusts `caPem`. Loopback goes direct: a test that sets it
 * as the global dispatcher still reaches its own servers on 127.0.0.1 (an app server it drives,
 * a server a proxy app forwards to) instead of getting the fakes' answer.
 */
export async function createTestDispatcher(
  proxyUrl: string,
  caPem: string
): Promise<TestDispatcher> {
  const { Agent, EnvHttpProxyAgent, getGlobalDispatcher, setGlobalDispatcher } =
    await import('undici')
  const before = getGlobalDispatcher()
  const dispatcher = new EnvHttpProxyAgent({
    httpProxy: proxyUrl,
    httpsProxy: proxyUrl,
    noProxy: NO_PROXY,
    requestTls: { ca: caPem },
  })
  return {
    dispatcher,
    async close() {
      // A destroyed global dispatcher fails every later fetch of the process with "fetch
      // failed", far from the test that closed it. What was global may itself be gone (the
      // dispatcher of a proxy closed earlier): a new Agent then takes its place.
      if (getGlobalDispatcher() === dispatcher) {
        setGlobalDispatcher(isDestroyed(before) ? new Agent() : before)
      }
      // Destroyed, not closed: its connections all lead to this proxy, which is going away. A
      // test that already closed it does not make close() fail.
      await dispatcher.destroy().catch(() => undefined)
    },
  }
}

function isDestroyed(dispatcher: Dispatcher): boolean {
  return (dispatcher as Partial<Record<'destroyed' | 'closed', boolean>>).destroyed === true
}

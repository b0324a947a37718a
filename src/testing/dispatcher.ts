/**
 * The undici dispatcher a test gives `fetch` in its own process: through the proxy and trusting
 * its CA, with loopback sent direct as `NO_PROXY` sends it for child processes.
 * @module
 */
import type { Dispatcher } from 'undici'
import { NO_PROXY } from './env'

/** The dispatcher, and what ends it. */
export interface TestDispatcher {
  readonly dispatcher: Dispatcher
  /** Destroy the dispatcher. */
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
  const { EnvHttpProxyAgent } = await import('undici')
  const dispatcher = new EnvHttpProxyAgent({
    httpProxy: proxyUrl,
    httpsProxy: proxyUrl,
    noProxy: NO_PROXY,
    requestTls: { ca: caPem },
  })
  return {
    dispatcher,
    async close() {
      // Destroyed, not closed: its connections all lead to this proxy, which is going away. A
      // test that already closed it does not make close() fail.
      await dispatcher.destroy().catch(() => undefined)
    },
  }
}

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
  }).compose(endAfterRecord)
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

/**
 * Tell the client a response ended one turn later than undici would. Over TLS a response's last
 * bytes reach this process's client before the proxy's write of them completes (Node completes
 * TLS writes in the check phase of the loop), and the proxy makes its record only then: a fake
 * that answered from a timer was recorded just after `await response.text()`, and a test that
 * asserted on `requests` there found it missing. The completed write is reported before an
 * immediate queued after it, so one is enough.
 */
/**
 * The real one, taken when this module loads: a test's fake timers (`vi.useFakeTimers()`) replace
 * the global one, and node:timers' too, and would hold every response until the test advanced
 * its clock.
 */
const immediately = setImmediate

const endAfterRecord: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (options, handler) =>
  dispatch(options, {
    onRequestStart: (controller, context) => handler.onRequestStart?.(controller, context),
    onRequestUpgrade: (controller, status, headers, socket) =>
      handler.onRequestUpgrade?.(controller, status, headers, socket),
    onResponseStart: (controller, status, headers, message) =>
      handler.onResponseStart?.(controller, status, headers, message),
    onResponseData: (controller, chunk) => handler.onResponseData?.(controller, chunk),
    onResponseEnd: (controller, trailers) => {
      immediately(() => handler.onResponseEnd?.(controller, trailers))
    },
    onResponseError: (controller, error) => handler.onResponseError?.(controller, error),
  })

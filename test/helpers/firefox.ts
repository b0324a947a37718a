/**
 * Debian's firefox-esr, headless, driven over WebDriver BiDi (the `ws` client speaks it; stock
 * Firefox has no Playwright protocol). Its profile sets the proxy in user.js, and its own NSS
 * store (cert9.db in the profile) is where a user would import the CA.
 */
import WebSocket from 'ws'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { toolPath } from './tools'

/** A running Firefox with one tab. */
export interface Firefox {
  /** Load `url` and wait for it; throws with Firefox's reason for an error page. */
  navigate(url: string): Promise<void>
  /** The JSON value of `expression` in the page, awaited when it is a promise. */
  evaluate<T>(expression: string): Promise<T>
  /** A PNG of the whole document. */
  screenshot(): Promise<Buffer>
  close(): Promise<void>
}

interface BidiReply {
  id?: number
  type: string
  result?: Record<string, unknown>
  error?: string
  message?: string
}

/** The manual proxy prefs (Settings → Network Settings) for an HTTP or a SOCKS5 proxy. */
function proxyPrefs(
  proxyPort: number,
  setting: 'http' | 'socks5'
): Record<string, string | number | boolean> {
  if (setting === 'socks5') {
    return {
      'network.proxy.socks': '127.0.0.1',
      'network.proxy.socks_port': proxyPort,
      'network.proxy.socks_version': 5,
      // "Proxy DNS when using SOCKS v5": the proxy gets the name, as with socks5h://.
      'network.proxy.socks_remote_dns': true,
    }
  }
  return {
    'network.proxy.http': '127.0.0.1',
    'network.proxy.http_port': proxyPort,
    'network.proxy.ssl': '127.0.0.1',
    'network.proxy.ssl_port': proxyPort,
  }
}

/** The prefs a user sets for a manual proxy, plus quiet start-up. */
function userJs(proxyPort: number, setting: 'http' | 'socks5'): string {
  const prefs: Record<string, string | number | boolean> = {
    'network.proxy.type': 1,
    ...proxyPrefs(proxyPort, setting),
    'network.proxy.no_proxies_on': '',
    'network.proxy.allow_hijacking_localhost': true,
    // HTTP/3 would go around an HTTP proxy, as QUIC does in Chromium.
    'network.http.http3.enable': false,
    'network.captive-portal-service.enabled': false,
    'network.connectivity-service.enabled': false,
    'browser.shell.checkDefaultBrowser': false,
    'datareporting.policy.dataSubmissionEnabled': false,
  }
  return Object.entries(prefs)
    .map(([name, value]) => `user_pref(${JSON.stringify(name)}, ${JSON.stringify(value)});\n`)
    .join('')
}

/** Start Firefox on `profile` (which may already hold an NSS store) with the proxy on `proxyPort`. */
export async function launchFirefox(
  profile: string,
  proxyPort: number,
  setting: 'http' | 'socks5' = 'http'
): Promise<Firefox> {
  await writeFile(join(profile, 'user.js'), userJs(proxyPort, setting))
  const child = spawn(
    toolPath('firefox-esr'),
    ['--headless', '--no-remote', '--remote-debugging-port=0', '-profile', profile, 'about:blank'],
    { env: { ...process.env, HOME: profile, MOZ_CRASHREPORTER_DISABLE: '1' }, stdio: 'pipe' }
  )
  child.stdout.resume()
  let output = ''
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const match = /WebDriver BiDi listening on (ws:\/\/\S+)/.exec(output)
      if (match?.[1] !== undefined) {
        resolve(match[1])
      }
    })
    child.once('exit', (code) => {
      reject(new Error(`firefox exited with ${code}: ${output}`))
    })
  })
  const socket = new WebSocket(`${endpoint}/session`)
  await once(socket, 'open')
  const pending = new Map<
    number,
    { resolve: (reply: BidiReply) => void; reject: (error: Error) => void }
  >()
  socket.on('message', (data: Buffer) => {
    const reply = JSON.parse(data.toString()) as BidiReply
    if (reply.id !== undefined) {
      pending.get(reply.id)?.resolve(reply)
      pending.delete(reply.id)
    }
  })
  socket.on('close', () => {
    pending.forEach(({ reject }) => {
      reject(new Error('the BiDi connection closed'))
    })
  })
  let lastId = 0
  const send = async (method: string, params: object) => {
    const id = ++lastId
    const replied = new Promise<BidiReply>((resolve, reject) => {
      pending.set(id, { resolve, reject })
    })
    socket.send(JSON.stringify({ id, method, params }))
    const reply = await replied
    if (reply.type === 'error') {
      throw new Error(`${method}: ${reply.error ?? ''}: ${reply.message ?? ''}`)
    }
    return reply.result ?? {}
  }

  await send('session.new', { capabilities: { alwaysMatch: { acceptInsecureCerts: false } } })
  const tree = (await send('browsingContext.getTree', {})) as { contexts: { context: string }[] }
  const context = tree.contexts[0]?.context
  if (context === undefined) {
    throw new Error('firefox has no tab')
  }
  await send('browsingContext.setViewport', { context, viewport: { width: 1000, height: 800 } })

  return {
    async navigate(url) {
      await send('browsingContext.navigate', { context, url, wait: 'complete' })
    },
    async evaluate<T>(expression: string) {
      const result = (await send('script.evaluate', {
        expression: `Promise.resolve(${expression}).then((value) => JSON.stringify(value))`,
        target: { context },
        awaitPromise: true,
      })) as { type: string; result?: { value?: string }; exceptionDetails?: { text: string } }
      if (result.type !== 'success' || result.result?.value === undefined) {
        throw new Error(`evaluate failed: ${result.exceptionDetails?.text ?? 'no value'}`)
      }
      return JSON.parse(result.result.value) as T
    },
    async screenshot() {
      const { data } = (await send('browsingContext.captureScreenshot', {
        context,
        origin: 'document',
      })) as { data: string }
      return Buffer.from(data, 'base64')
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) {
        return
      }
      const exited = once(child, 'exit')
      await send('browser.close', {}).catch(() => {
        child.kill('SIGTERM')
      })
      socket.close()
      await exited
    },
  }
}

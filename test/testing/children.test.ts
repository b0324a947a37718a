/**
 * Child processes through the proxy with nothing but `proxy.env` merged into their environment:
 * curl, Python requests and httpx, Node 24's own fetch, and Java with the recipe of
 * docs/testing.md. Each verifies TLS against `ca.file`.
 */
import { Hono } from 'hono'
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startProxy } from '../../src/testing/start-proxy'
import type { TestProxy } from '../../src/testing/start-proxy'
import { canListenOnIpv6 } from '../helpers/ipv6'
import { openssl } from '../helpers/openssl'
import { describeWith, hasNode24, NODE24, runs } from '../helpers/tools'

const run = promisify(execFile)
const PYTHON = '/usr/bin/python3'
const API = 'https://api.example.com/v1/user'
const hasIpv6 = await canListenOnIpv6()

let proxy: TestProxy
beforeAll(async () => {
  const api = new Hono().get('/v1/user', (c) =>
    c.json({ name: 'ada', agent: c.req.header('user-agent')?.split('/')[0] })
  )
  proxy = await startProxy(() => new Response('main app\n'), {
    proxyApps: { 'api.example.com': api },
  })
})
afterAll(async () => {
  await proxy.close()
})
beforeEach(() => {
  proxy.clear()
})

/** Run `command` with the proxy's env over a copy of this process's. */
function child(command: string, args: string[]) {
  return run(command, args, { env: { ...process.env, ...proxy.env }, timeout: 20_000 })
}

describeWith('curl', runs('curl'))('curl with proxy.env', () => {
  it('fetches a faked https API, verified against ca.file', async () => {
    const { stdout } = await child('curl', ['-sS', '--fail', API])
    expect(JSON.parse(stdout)).toEqual({ name: 'ada', agent: 'curl' })
    expect(proxy.requests.map((r) => r.url)).toEqual([API])
  })

  it('reaches a server on loopback directly: NO_PROXY names loopback only', async () => {
    const server = createServer((_req, res) => res.end('local server\n'))
    server.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    try {
      const { port } = server.address() as AddressInfo
      const { stdout } = await child('curl', ['-sS', `http://127.0.0.1:${port}/`])
      expect(stdout).toBe('local server\n')
      expect(proxy.requests).toEqual([])
    } finally {
      server.close()
    }
  })
})

describeWith('curl', runs('curl'))('close() with curl waiting', () => {
  it.each([['--http1.1'], ['--http2']])(
    'ends a request still in flight at once (%s), and curl fails',
    async (version) => {
      let arrived!: () => void
      const asked = new Promise<void>((resolve) => (arrived = resolve))
      // The fake never answers, as a hung fake or an endless event stream would not.
      const waiting = await startProxy(() => {
        arrived()
        return new Promise<Response>(() => {})
      })
      const exitCode = run('curl', ['-sS', version, 'https://slow.example.com/'], {
        env: { ...process.env, ...waiting.env },
      }).then(
        () => 0,
        (error: unknown) => (error as { code: number }).code
      )
      await asked
      const started = performance.now()
      await waiting.close()
      expect(performance.now() - started).toBeLessThan(1000)
      expect(await exitCode).toBeGreaterThan(0)
    }
  )
})

describeWith('python3 with requests', runs(PYTHON, ['-c', 'import requests']))(
  'python requests with proxy.env',
  () => {
    it('fetches a faked https API, verified against REQUESTS_CA_BUNDLE', async () => {
      const script = `import requests; r = requests.get(${JSON.stringify(API)}); r.raise_for_status(); print(r.text)`
      const { stdout } = await child(PYTHON, ['-c', script])
      expect(JSON.parse(stdout)).toEqual({ name: 'ada', agent: 'python-requests' })
    })

    it('fails verification without the CA bundle', async () => {
      const script = `import requests; requests.get(${JSON.stringify(API)})`
      const env = { ...process.env, ...proxy.env, REQUESTS_CA_BUNDLE: '', CURL_CA_BUNDLE: '' }
      await expect(run(PYTHON, ['-c', script], { env })).rejects.toThrow(
        /SSLError|CERTIFICATE_VERIFY_FAILED/
      )
    })
  }
)

describeWith('python3 with httpx and h2', runs(PYTHON, ['-c', 'import httpx, h2']))(
  'python httpx with proxy.env',
  () => {
    it.each([false, true])(
      'fetches a faked https API, verified against SSL_CERT_FILE (http2=%s)',
      async (http2) => {
        const script = [
          'import httpx',
          `with httpx.Client(http2=${http2 ? 'True' : 'False'}) as client:`,
          `    r = client.get(${JSON.stringify(API)}); r.raise_for_status()`,
          '    print(r.http_version, r.text)',
        ].join('\n')
        const { stdout } = await child(PYTHON, ['-c', script])
        const [version, ...body] = stdout.split(' ')
        expect(version).toBe(http2 ? 'HTTP/2' : 'HTTP/1.1')
        expect(JSON.parse(body.join(' '))).toEqual({ name: 'ada', agent: 'python-httpx' })
      }
    )
  }
)

describeWith('javac', runs('javac', ['-version']))(
  'java with the recipe of docs/testing.md',
  () => {
    it(
      'fetches a faked https API with HttpClient, through a keytool trust store',
      { timeout: 30_000 },
      async () => {
        const dir = await mkdtemp(join(tmpdir(), 'wsgiprox-java-'))
        try {
          const main = join(dir, 'Main.java')
          await writeFile(
            main,
            `public class Main {
  public static void main(String[] args) throws Exception {
    var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(${JSON.stringify(API)})).build();
    var body = java.net.http.HttpResponse.BodyHandlers.ofString();
    System.out.println(java.net.http.HttpClient.newHttpClient().send(request, body).body());
  }
}\n`
          )
          // The recipe, as docs/testing.md gives it.
          const store = join(dir, 'ca.p12')
          const keytool = [
            '-importcert',
            '-noprompt',
            '-alias',
            'wsgiprox',
            '-storepass',
            'changeit',
          ]
          await run('keytool', [...keytool, '-file', proxy.ca.file, '-keystore', store])
          const jvm = [
            ...[
              `-Djavax.net.ssl.trustStore=${store}`,
              '-Djavax.net.ssl.trustStorePassword=changeit',
            ],
            ...['-Dhttps.proxyHost=127.0.0.1', `-Dhttps.proxyPort=${proxy.port}`],
            ...['-Dhttp.proxyHost=127.0.0.1', `-Dhttp.proxyPort=${proxy.port}`],
          ]
          const { stdout } = await run('java', [...jvm, main], { timeout: 25_000 })
          expect(JSON.parse(stdout)).toEqual({ name: 'ada', agent: 'Java-http-client' })
        } finally {
          await rm(dir, { recursive: true, force: true })
        }
      }
    )
  }
)

describeWith('node 24 (.cache/node24)', hasNode24)('node 24 fetch with proxy.env', () => {
  it('fetches a faked https API through NODE_USE_ENV_PROXY and NODE_EXTRA_CA_CERTS', async () => {
    const script = `fetch(${JSON.stringify(API)}).then((r) => r.text()).then((t) => console.log(t))`
    const { stdout } = await child(NODE24, ['-e', script])
    expect(JSON.parse(stdout)).toEqual({ name: 'ada', agent: 'node' })
    expect(proxy.requests.map((r) => r.tunnel?.host)).toEqual(['api.example.com'])
  })

  it.skipIf(!hasIpv6)('reaches a server on the IPv6 loopback directly', async () => {
    const server = createServer((_req, res) => res.end('local server\n')).listen(0, '::1')
    await once(server, 'listening')
    try {
      const url = `http://[::1]:${(server.address() as AddressInfo).port}/`
      const script = `fetch(${JSON.stringify(url)}).then((r) => r.text()).then((t) => console.log(t))`
      expect((await child(NODE24, ['-e', script])).stdout).toBe('local server\n\n')
      expect(proxy.requests).toEqual([])
    } finally {
      server.close()
    }
  })
})

describeWith('openssl', runs('openssl', ['version']))('the chain the proxy sends', () => {
  it('holds the host certificate and the CA, which verifies against ca.file', async () => {
    const args = ['s_client', '-proxy', proxy.url.slice('http://'.length)]
    args.push('-connect', 'api.example.com:443', '-servername', 'api.example.com')
    args.push('-CAfile', proxy.ca.file, '-verify_return_error', '-showcerts')
    const { stdout } = await openssl(args, { input: '' })
    const sent = stdout.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n/g)
    expect(sent).toHaveLength(2)
    expect(sent?.[1]).toBe(readFileSync(proxy.ca.file, 'utf8'))
    expect(stdout).toContain('Verify return code: 0 (ok)')
  })
})

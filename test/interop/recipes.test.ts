/**
 * The landing page's recipes, run as a user would paste them: the commands come from the same
 * data the page renders, filled in with this proxy's address, in a folder holding only the
 * certificate that the page's own download command fetched.
 */
import { execFile } from 'node:child_process'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { CA_FILES, downloadCommand, installGroups } from '../../src/pages/landing-steps'
import type { CodeBlock, StepsContext } from '../../src/pages/landing-steps'
import { echoApp } from '../helpers/apps'
import type { Echo } from '../helpers/apps'
import { tempDir } from '../helpers/browsers'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'
import { missing, toolPath } from '../helpers/tools'

const run = promisify(execFile)

let running: RunningProxy
let dir: Awaited<ReturnType<typeof tempDir>>
let ctx: StepsContext

/** Run `script` with bash in the recipe folder, with no proxy or CA settings inherited. */
async function sh(script: string): Promise<{ stdout: string; stderr: string }> {
  // This machine sets SSL_CERT_FILE, CURL_CA_BUNDLE, GIT_SSL_CAINFO... to the system bundle.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/_proxy$|CA_BUNDLE|CA_CERTS|SSL_C/i.test(name))
  )
  const path = `${join(dir.path, 'bin')}:${dirname(process.execPath)}:${process.env.PATH ?? ''}`
  return run('bash', ['-euo', 'pipefail', '-c', script], {
    cwd: dir.path,
    env: { ...env, PATH: path, HOME: dir.path },
  })
}

/** The code blocks of the section `id`, in order. */
function blocks(id: string): CodeBlock[] {
  const section = installGroups(ctx)
    .flatMap((group) => group.sections)
    .find((candidate) => candidate.id === id)
  return (section?.body ?? []).filter((part): part is CodeBlock => typeof part !== 'string')
}

const code = (id: string, index: number): string => blocks(id)[index]?.code ?? 'false'

/** Whether this Node honours `NODE_USE_ENV_PROXY`: 22.21 and later, 24 and later. */
const nodeUsesEnvProxy = (() => {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
  return major >= 24 || (major === 22 && minor >= 21)
})()

describe.skipIf(missing('curl'))('landing page recipes', () => {
  beforeAll(async () => {
    running = await startProxy(echoApp())
    dir = await tempDir('wsgiprox-recipes-')
    ctx = {
      proxyHost: '127.0.0.1',
      proxyPort: String(running.port),
      downloadHost: 'wsgiprox',
      caName: running.ca.name,
    }
    // Debian's python3, where .ci/run installs requests, first on PATH; the repo's packages for
    // the Node recipe's `import 'undici'`.
    await mkdir(join(dir.path, 'bin'))
    if (!missing('python3-requests')) {
      await symlink(toolPath('python3-requests'), join(dir.path, 'bin/python3'))
    }
    await symlink(
      resolve(import.meta.dirname, '../../node_modules'),
      join(dir.path, 'node_modules')
    )
    await sh(downloadCommand(ctx))
  })
  afterAll(async () => {
    await running.close()
    await dir.remove()
  })

  it('downloads the certificate with the page’s curl command', async () => {
    const { stdout } = await sh(`cat ${CA_FILES.pem}`)
    expect(stdout).toBe(running.caPem)
  })

  it('curl: -x with --cacert, and https_proxy with CURL_CA_BUNDLE', async () => {
    const once = JSON.parse((await sh(`${code('curl', 0)} -sS`)).stdout) as Echo
    expect(once.path).toBe('/https://example.com/')
    const shell = await sh(`${code('curl', 1)}\ncurl -sS https://example.com/env`)
    expect((JSON.parse(shell.stdout) as Echo).path).toBe('/https://example.com/env')
  })

  it.skipIf(missing('python3-requests'))(
    'python: requests with REQUESTS_CA_BUNDLE, urllib with SSL_CERT_FILE',
    async () => {
      expect((await sh(code('python', 0))).stdout).toBe('200\n')
      expect((await sh(code('python', 1))).stdout).toBe('200\n')
    }
  )

  it('node: NODE_EXTRA_CA_CERTS with an undici ProxyAgent', async () => {
    await writeFile(join(dir.path, 'app.mjs'), code('node', 2))
    expect((await sh(code('node', 1))).stdout).toBe('200\n')
  })

  // Node 20 has no NODE_USE_ENV_PROXY; CI runs this file on 22, 24 and 26 too.
  it.skipIf(!nodeUsesEnvProxy)('node: the global fetch with NODE_USE_ENV_PROXY=1', async () => {
    expect((await sh(code('node', 0))).stdout).toBe('200\n')
  })

  it.skipIf(missing('git'))(
    'git: http.proxy and http.sslCAInfo get past TLS to the app',
    async () => {
      // The echo app is no git server: git takes its answer for an empty dumb-HTTP repository,
      // which it can only have read over a verified TLS connection.
      const { stderr } = await sh(code('git', 0))
      expect(stderr).toContain('You appear to have cloned an empty repository')
    }
  )

  it.skipIf(missing('javac'))(
    'java: keytool trust store and the proxy system properties',
    { timeout: 30_000 },
    async () => {
      const fetchJava = `public class Fetch {
  public static void main(String[] args) throws Exception {
    var url = new java.net.URI("https://example.com/java");
    System.out.println(((java.net.HttpURLConnection) url.toURL().openConnection()).getResponseCode());
    // The step says HttpClient needs no .proxy(...) of its own for these settings.
    var client = java.net.http.HttpClient.newHttpClient();
    var request = java.net.http.HttpRequest.newBuilder(url).build();
    System.out.println(client.send(request, java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode());
  }
}\n`
      await writeFile(join(dir.path, 'Fetch.java'), fetchJava)
      const script = code('java', 0).replace('-jar app.jar', 'Fetch.java')
      expect((await sh(script)).stdout).toBe('200\n200\n')
    }
  )
})

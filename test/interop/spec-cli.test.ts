/**
 * SPEC "CLI", with nothing but `--port 0`, read by curl and openssl as a user would: 127.0.0.1,
 * the CA created with its folder in `./ca/wsgiprox-ca.pem` (mode 0600, key and certificate, the
 * default name), the demo app showing method, translated URL, proxy host and headers, and the
 * CA downloads and PAC file with their content types. Then `--app MODULE`: its default export (a
 * Hono app) and its `proxyApps` export (an app and an alias keyed by host).
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { hasOpenssl, opensslOk } from '../helpers/openssl'
import { startListening, TSX_IMPORT } from '../helpers/spawn'
import type { Started } from '../helpers/spawn'
import { missing } from '../helpers/tools'

const run = promisify(execFile)
const CLI = resolve(import.meta.dirname, '../../src/cli/index.ts')
const HONO = pathToFileURL(resolve(import.meta.dirname, '../../node_modules/hono/dist/index.js'))

/** A user's module: a Hono app as its default export, and apps keyed by host in `proxyApps`. */
const USER_MODULE = `import { Hono } from '${HONO.href}'
const app = new Hono()
app.all('*', (c) => c.text('main ' + c.req.method + ' ' + c.req.path + ' ' + c.req.header('x-wsgiprox-proxy-host')))
export default app
export const proxyApps = {
  'api.test': { fetch: (request) => new Response('api ' + new URL(request.url).pathname) },
  'alias.test': null,
}
`

let cwd: string
let cli: Started
let proxy: string
let user: Started
beforeAll(async () => {
  cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-spec-cli-'))
  writeFileSync(join(cwd, 'my-app.mjs'), USER_MODULE)
  const args = ['--import', TSX_IMPORT, CLI, '--port', '0']
  ;[cli, user] = await Promise.all([
    startListening(args, { cwd }),
    startListening([...args, '--app', './my-app.mjs', '--ca-file', 'user-ca.pem'], { cwd }),
  ])
  proxy = `http://127.0.0.1:${cli.port}`
}, 20_000)
afterAll(async () => {
  await Promise.all([cli.stop(), user.stop()])
})

/** curl's output with `-w` giving the status and content type after the body. */
async function curl(...args: string[]) {
  const { stdout } = await run('curl', ['-sS', '-w', '\n%{http_code} %{content_type}', ...args])
  const end = stdout.lastIndexOf('\n')
  return { body: stdout.slice(0, end), status: stdout.slice(end + 1) }
}

describe('wsgiprox --port 0', () => {
  it('creates ./ca/ and ./ca/wsgiprox-ca.pem, 0600, holding the key and the certificate', () => {
    const file = join(cwd, 'ca/wsgiprox-ca.pem')
    expect(statSync(join(cwd, 'ca')).isDirectory()).toBe(true)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const pem = readFileSync(file, 'utf8')
    expect(pem).toMatch(/^-----BEGIN (EC |RSA )?PRIVATE KEY-----\n/)
    expect(pem).toMatch(/-----END CERTIFICATE-----\n$/)
  })

  it.skipIf(!hasOpenssl)('names the CA wsgiprox https proxy CA', async () => {
    const pem = readFileSync(join(cwd, 'ca/wsgiprox-ca.pem'), 'utf8')
    const { stdout } = await opensslOk(['x509', '-noout', '-subject'], { input: pem })
    expect(stdout.trim()).toMatch(/^subject=CN ?= ?wsgiprox https proxy CA$/)
  })
})

describe.skipIf(missing('curl'))('wsgiprox --port 0, through curl', () => {
  it('shows the method, translated URL, proxy host and headers in the demo app', async () => {
    const { body, status } = await curl(
      '-x',
      proxy,
      '-X',
      'POST',
      '-H',
      'X-Probe: seen-by-the-app',
      '-d',
      'x=1',
      'http://example.com/p?q=1'
    )
    expect(status).toBe('200 text/html; charset=UTF-8')
    const text = body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ')
    expect(text).toContain(' POST ')
    expect(text).toContain(' /http://example.com/p?q=1 ')
    expect(text).toContain(' Proxy host (X-Wsgiprox-Proxy-Host) wsgiprox ')
    expect(text).toContain(' x-probe seen-by-the-app ')
  })

  it('serves https verified against ./ca/wsgiprox-ca.pem', async () => {
    const { body, status } = await curl(
      '--cacert',
      join(cwd, 'ca/wsgiprox-ca.pem'),
      '-x',
      proxy,
      'https://example.com:8443/s?format=json'
    )
    expect(status).toBe('200 application/json')
    expect(JSON.parse(body)).toMatchObject({
      method: 'GET',
      url: '/https://example.com:8443/s?format=json',
      proxyHost: 'wsgiprox',
    })
  })

  it.each([
    ['http://wsgiprox/download/pem', 'application/x-x509-ca-cert'],
    ['http://wsgiprox/download/p12', 'application/x-pkcs12'],
    ['http://wsgiprox/download/cer', 'application/pkix-cert'],
    ['http://wsgiprox/download/', 'text/html; charset=UTF-8'],
    ['http://wsgiprox/proxy.pac', 'application/x-ns-proxy-autoconfig'],
  ])('serves %s as %s, for GET and HEAD', async (url, type) => {
    expect((await curl('-o', '/dev/null', '-x', proxy, url)).status).toBe(`200 ${type}`)
    expect((await curl('-I', '-o', '/dev/null', '-x', proxy, url)).status).toBe(`200 ${type}`)
  })

  it('serves the PAC file on a direct request to its own address, naming that address', async () => {
    const { body, status } = await curl(`${proxy}/proxy.pac`)
    expect(status).toBe('200 application/x-ns-proxy-autoconfig')
    expect(body).toContain(`PROXY 127.0.0.1:${cli.port}`)
  })

  it('sends the PEM download without the private key', async () => {
    const { body } = await curl('-x', proxy, 'http://wsgiprox/download/pem')
    expect(body).toBe(
      readFileSync(join(cwd, 'ca/wsgiprox-ca.pem'), 'utf8').replace(/^[^]*?(?=-----BEGIN CERT)/, '')
    )
    expect(body).not.toContain('PRIVATE KEY')
  })
})

describe.skipIf(missing('curl'))('wsgiprox --app MODULE', () => {
  it.each([
    ['http://example.com/a?b', 'main GET /http://example.com/a wsgiprox'],
    ['http://wsgiprox/own', 'main GET /own wsgiprox'],
    ['http://api.test/v1', 'api /v1'],
    ['http://alias.test/x', 'main GET /x alias.test'],
  ])('answers %s from the module: %s', async (url, text) => {
    const { body, status } = await curl('-x', `http://127.0.0.1:${user.port}`, url)
    expect(`${status.split(' ')[0]} ${body}`).toBe(`200 ${text}`)
  })
})

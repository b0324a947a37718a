import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { PassThrough } from 'node:stream'
import { main } from '../src/cli/index'
import { httpsTunnel, proxyGet, requestOver } from './helpers/clients'
import type { Started } from './helpers/spawn'
import { startListening, TSX_IMPORT } from './helpers/spawn'

const root = resolve(import.meta.dirname, '..')

function buffers() {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  const read = (stream: PassThrough) => () => (stream.read() as Buffer | null)?.toString() ?? ''
  return { io: { stdout, stderr }, out: read(stdout), err: read(stderr) }
}

let started: Started | undefined
afterEach(async () => {
  await started?.stop()
  started = undefined
})

describe('wsgiprox cli', () => {
  it('prints its usage with --help and exits 0', async () => {
    const { io, out } = buffers()
    expect(await main(['--help'], io)).toBe(0)
    expect(out()).toMatch(/^usage: wsgiprox \[--port 8080\]/)
  })

  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--port', 'abc'], /--port must be a number from 0 to 65535/],
    [['--app', 'no/such/module.mjs'], /cannot load --app no\/such\/module\.mjs/],
  ])('answers %j with one line and exit code 2', async (argv, message) => {
    const { io, err } = buffers()
    expect(await main(argv, io)).toBe(2)
    const text = err()
    expect(text).toMatch(message)
    expect(text.trim().split('\n')).toHaveLength(1)
  })

  it('serves the demo app, showing what the app received, over http and https', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-cli-'))
    started = await startListening(
      ['--import', TSX_IMPORT, join(root, 'src/cli/index.ts'), '--port', '0', '--prefix', '/demo/'],
      { cwd }
    )
    const page = await proxyGet(started.port, 'http://example.com/hello?x=1')
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    expect(page.body).toContain('<dd id="url">/demo/http://example.com/hello?x=1</dd>')
    expect(page.body).toContain('<dd id="proxy-host">wsgiprox</dd>')
    const caPem = readFileSync(join(cwd, 'ca/wsgiprox-ca.pem'), 'utf8')
    const tls = await httpsTunnel(started.port, 'example.com:443', 'example.com', caPem)
    const secure = await requestOver(tls, '/s?format=json')
    expect(JSON.parse(secure.body)).toMatchObject({
      method: 'GET',
      url: '/demo/https://example.com/s?format=json',
    })
    expect(started.output()).toContain(`CA: ${join(cwd, 'ca/wsgiprox-ca.pem')}`)
    expect(started.output()).toContain(`SOCKS5 (same port): socks5h://127.0.0.1:${started.port}`)
    expect(started.output()).toContain(`PAC file: http://127.0.0.1:${started.port}/proxy.pac`)
  }, 30_000)

  it('serves the default export of --app <module> and honours --proxy-host', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-cli-app-'))
    writeFileSync(
      join(cwd, 'app.mjs'),
      "export default (request) => new Response('mine: ' + new URL(request.url).pathname + ' ' + request.headers.get('x-wsgiprox-proxy-host'))\n"
    )
    started = await startListening(
      [
        '--import',
        TSX_IMPORT,
        join(root, 'src/cli/index.ts'),
        '--port',
        '0',
        '--app',
        'app.mjs',
        '--proxy-host',
        'px',
        '--ca-file',
        'my-ca.pem',
      ],
      { cwd }
    )
    expect((await proxyGet(started.port, 'http://example.com/a')).body).toBe(
      'mine: /http://example.com/a px'
    )
    expect((await proxyGet(started.port, 'http://px/own')).body).toBe('mine: /own px')
    expect(existsSync(join(cwd, 'my-ca.pem'))).toBe(true)
  }, 30_000)

  it('runs as the built bin, as npm start does', async () => {
    const bin = join(root, 'dist/cli.mjs')
    // npm ci and npm install build dist/ through the prepare script.
    expect(existsSync(bin), 'dist/cli.mjs is missing: run npm run build').toBe(true)
    const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-bin-'))
    started = await startListening([bin, '--port', '0'], { cwd })
    const page = await proxyGet(started.port, 'http://example.com/')
    expect(page.body).toContain('<dd id="url">/http://example.com/</dd>')
  }, 30_000)
})

import { build } from 'tsdown'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { PassThrough } from 'node:stream'
import { CA_DEFAULTS } from '../src/ca/authority'
import { main } from '../src/cli/index'
import { SERVE_OPTIONS } from '../src/cli/serve'
import { DEFAULTS } from '../src/options'
import { DEFAULT_HOST, DEFAULT_PORT } from '../src/proxy'
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
let built: Promise<unknown> | undefined
afterEach(async () => {
  await started?.stop()
  started = undefined
})

describe('wsgiprox cli', () => {
  it('explains every flag with the library default in --help, and exits 0', async () => {
    const { io, out } = buffers()
    expect(await main(['--help'], io)).toBe(0)
    const help = out()
    expect(help).toMatch(/^usage: wsgiprox \[options\]/)
    for (const flag of Object.keys(SERVE_OPTIONS)) {
      expect(help).toMatch(new RegExp(`^ +(-\\w, )?--${flag}\\b.* \\w`, 'm'))
    }
    for (const fallback of [
      DEFAULT_PORT,
      DEFAULT_HOST,
      DEFAULTS.prefix,
      CA_DEFAULTS.file,
      `'${CA_DEFAULTS.name}'`,
      DEFAULTS.proxyHost,
    ]) {
      expect(help).toContain(`(default: ${fallback})`)
    }
  })

  it('prints the package version with --version', async () => {
    const { io, out } = buffers()
    expect(await main(['--version'], io)).toBe(0)
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      version: string
    }
    expect(out()).toBe(`${version}\n`)
  })

  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--port', 'abc'], /--port must be a number from 0 to 65535/],
  ])('answers %j with one line and exit code 2', async (argv, message) => {
    const { io, err } = buffers()
    expect(await main(argv, io)).toBe(2)
    const text = err()
    expect(text).toMatch(message)
    expect(text.trim().split('\n')).toHaveLength(1)
  })

  it.each([
    ['missing.mjs', undefined, /^cannot read \S+\/missing\.mjs: no such file$/],
    ['syntax.mjs', 'export default 1 +\n\n', /^cannot load --app \S+\/syntax\.mjs: \S/],
    ['throws.mjs', "throw new Error('not today')\n", /^cannot load --app \S+: not today$/],
    ['number.mjs', 'export default 42\n', /^--app \S+\/number\.mjs must export default a Hono app/],
  ])(
    'fails to load --app %s with one line naming it and exit code 1',
    async (name, source, message) => {
      const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-cli-app-'))
      if (source !== undefined) {
        writeFileSync(join(cwd, name), source)
      }
      const { io, err } = buffers()
      expect(await main(['--app', join(cwd, name)], io)).toBe(1)
      const lines = err().trim().split('\n')
      expect(lines).toHaveLength(1)
      expect(lines[0]?.replace(/^wsgiprox: /, '')).toMatch(message)
    }
  )

  it('serves the demo app, showing what the app received, over http and https', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-cli-'))
    started = await startListening(
      ['--import', TSX_IMPORT, join(root, 'src/cli/index.ts'), '--port', '0', '--prefix', '/demo/'],
      { cwd }
    )
    const page = await proxyGet(started.port, 'http://example.com/hello?x=1')
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    expect(page.body).toContain('<dd id="url">/demo/http://example.com/hello?x=1</dd>')
    expect(page.body).toContain('<dd id="original">http://example.com/hello?x=1</dd>')
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

  it.each(['dist/cli.mjs', 'scripts/start.mjs'])(
    'runs as the built bin, through %s',
    async (script) => {
      // Built here (once), so that the bin under test is made from the sources under test.
      await (built ??= build({ logLevel: 'warn' }))
      const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-bin-'))
      started = await startListening([join(root, script), '--port', '0'], { cwd })
      const page = await proxyGet(started.port, 'http://example.com/')
      expect(page.body).toContain('<dd id="url">/http://example.com/</dd>')
    },
    60_000
  )
})

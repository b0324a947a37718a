import { build } from 'tsdown'
import { execFile, execFileSync, spawn } from 'node:child_process'
import { EventEmitter, once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { PassThrough } from 'node:stream'
import { pathToFileURL } from 'node:url'
import { CA_DEFAULTS } from '../src/ca/authority'
import { main } from '../src/cli/index'
import { SERVE_OPTIONS } from '../src/cli/serve'
import { stopOnSignals } from '../src/cli/shutdown'
import { DEFAULTS } from '../src/options'
import { DEFAULT_HOST, DEFAULT_PORT } from '../src/proxy'
import { httpsTunnel, proxyGet, rawExchange, requestOver } from './helpers/clients'
import type { Started } from './helpers/spawn'
import { outputMatching, startListening, TSX_IMPORT, withoutEnvProxyWarning } from './helpers/spawn'
import { readText } from './helpers/streams'

const CLI = resolve(import.meta.dirname, '../src/cli/index.ts')

/** Run the CLI to its end in `cwd`; its exit code and stderr. */
function runCli(
  args: string[],
  cwd: string,
  timeout = 0
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', TSX_IMPORT, CLI, '--port', '0', ...args],
      { cwd, timeout },
      (error, _stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr })
      }
    )
  })
}

const root = resolve(import.meta.dirname, '..')

function buffers() {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  const read = (stream: PassThrough) => () => readText(stream)
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
    [
      'syntax.mjs',
      'export default 1 +\n\n',
      /^cannot load --app \S+\/syntax\.mjs:3: SyntaxError: Unexpected end of input$/,
    ],
    [
      'throws.mjs',
      "const x = 1\nthrow new Error('not today')\n",
      /^cannot load --app \S+\/throws\.mjs:2:7: not today$/,
    ],
    ['number.mjs', 'export default 42\n', /^--app \S+\/number\.mjs must export default a Hono app/],
  ])(
    'fails to load --app %s with --quiet with one line naming it and exit code 1',
    async (name, source, message) => {
      const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-cli-app-'))
      if (source !== undefined) {
        writeFileSync(join(cwd, name), source)
      }
      // Spawned: Node's own module loader, as users run it, not the test runner's.
      const { code, stderr } = await runCli(['--quiet', '--app', join(cwd, name)], cwd)
      expect(code).toBe(1)
      const lines = stderr.trim().split('\n')
      expect(lines).toHaveLength(1)
      expect(lines[0]?.replace(/^wsgiprox: /, '')).toMatch(message)
    }
  )

  it('refuses an --app that is a FIFO with one line at once, instead of waiting for a writer', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-cli-app-'))
    const fifo = join(cwd, 'app.mjs')
    execFileSync('mkfifo', [fifo])
    // Killed after 6 s: without the check, the import waits for ever.
    const { code, stderr } = await runCli(['--quiet', '--app', fifo], cwd, 6_000)
    expect(code).toBe(1)
    expect(stderr).toBe(
      `wsgiprox: cannot read ${fifo}: not a regular file (a FIFO, socket or device)\n`
    )
  })

  it('prints the stack of an --app module that throws while loading, below its line', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-cli-app-'))
    const file = join(cwd, 'throws.mjs')
    writeFileSync(file, "function load() {\n  throw new Error('not today')\n}\nload()\n")
    const { code, stderr } = await runCli(['--app', file], cwd)
    expect(code).toBe(1)
    expect(stderr.trim().split('\n')).toEqual([
      `wsgiprox: cannot load --app ${file}:2:9: not today`,
      `    at load (${pathToFileURL(file).href}:2:9)`,
      `    at ${pathToFileURL(file).href}:4:1`,
    ])
  })

  it('prints an app error with where it happened, and its stack unless --quiet', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-cli-app-'))
    const file = join(cwd, 'app.mjs')
    writeFileSync(file, "export default () => {\n  throw new Error('boom')\n}\n")
    for (const quiet of [false, true]) {
      started = await startListening(
        ['--import', TSX_IMPORT, CLI, '--port', '0', '--app', file, ...(quiet ? ['-q'] : [])],
        { cwd }
      )
      expect((await proxyGet(started.port, 'http://example.com/')).status).toBe(500)
      // The line and the stack below it are written at once.
      await outputMatching(started, /error \(app\): boom.*\n/)
      expect(started.output()).toContain(`wsgiprox: error (app): boom (at ${file}:2:9)\n`)
      const stack = `    at default (${pathToFileURL(file).href}:2:9)\n`
      expect(started.output().includes(stack)).toBe(!quiet)
      await started.stop()
    }
  }, 30_000)

  it.each([
    [
      ['--auth-prefix', '--prefix', '/x/'],
      /--auth-prefix takes the prefix from the proxy user name/,
    ],
    [['--auth-realm', 'r'], /--auth-realm is the realm of --auth-prefix/],
    [['--prefix', '/a b/'], /--prefix: prefix "\/a b\/" must be a plain path/],
    [['--shutdown-timeout=-1'], /--shutdown-timeout must be a number of seconds >= 0/],
  ])('refuses %j with one line and exit code 2', async (argv, message) => {
    const { io, err } = buffers()
    expect(await main(argv, io)).toBe(2)
    expect(err()).toMatch(message)
    expect(err().trim().split('\n')).toHaveLength(1)
  })

  it.each([
    [
      'a CA file that holds no key',
      (dir: string) => ['--ca-file', join(dir, 'ca.pem')],
      /^wsgiprox: CA file \S+ca\.pem: holds no private key/,
    ],
    [
      'a --host that is no address',
      () => ['--host', '256.1.1.1'],
      /^wsgiprox: cannot listen on 256\.1\.1\.1:0: 256\.1\.1\.1 is not an address or a known host name; check --host$/,
    ],
  ])('answers %s with one line that names it, and exit code 1', async (_, flags, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'wsgiprox-cli-open-'))
    writeFileSync(join(dir, 'ca.pem'), 'not a PEM file\n')
    const { io, err } = buffers()
    expect(await main(['--port', '0', ...flags(dir)], io)).toBe(1)
    expect(err().trim().split('\n')).toEqual([expect.stringMatching(message)])
  })

  it('serves the demo app, showing what the app received, over http and https', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-cli-'))
    started = await startListening(
      // A prefix without slashes gets them, as in the library.
      ['--import', TSX_IMPORT, join(root, 'src/cli/index.ts'), '--port', '0', '--prefix', 'demo'],
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

  it('picks the prefix by proxy user name with --auth-prefix, asking with --auth-realm', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-cli-auth-'))
    writeFileSync(
      join(cwd, 'app.mjs'),
      'export default (request) => new Response(new URL(request.url).pathname)\n'
    )
    started = await startListening(
      [
        '--import',
        TSX_IMPORT,
        CLI,
        '--port',
        '0',
        '--app',
        'app.mjs',
        '--auth-prefix',
        '--auth-realm',
        'Pick a collection',
      ],
      { cwd }
    )
    const request = (headers: string) =>
      rawExchange(
        started?.port ?? 0,
        `GET http://example.com/a HTTP/1.1\r\nHost: example.com\r\n${headers}Connection: close\r\n\r\n`
      )
    const asked = await request('')
    expect(asked).toMatch(/^HTTP\/1\.1 407 /)
    expect(asked).toContain('Proxy-Authenticate: Basic realm="Pick a collection"')
    const alice = `Proxy-Authorization: Basic ${Buffer.from('alice:x').toString('base64')}\r\n`
    expect(await request(alice)).toMatch(/\r\n\r\n\/alice\/http:\/\/example\.com\/a$/)
    expect(started.output()).toContain('prefix: /<proxy user name>/')
  }, 30_000)

  it('with --auth-prefix, the demo app tells the URL asked for and the banner logs in', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-cli-auth-demo-'))
    started = await startListening(['--import', TSX_IMPORT, CLI, '--port', '0', '--auth-prefix'], {
      cwd,
    })
    const alice = { 'proxy-authorization': `Basic ${Buffer.from('alice:x').toString('base64')}` }
    const json = await proxyGet(started.port, 'http://example.com/a?format=json', {
      headers: alice,
    })
    expect(JSON.parse(json.body)).toMatchObject({
      url: '/alice/http://example.com/a?format=json',
      original: 'http://example.com/a?format=json',
      route: 'translated',
    })
    const page = (await proxyGet(started.port, 'http://example.com/a', { headers: alice })).body
    expect(page).toMatch(/<dd id="original">http:\/\/example\.com\/a<\/dd>/)
    expect(page).toContain('The proxy put the prefix /alice/ before the full URL')
    // The banner's command to try, as a user copies it, passes the login.
    const [, proxyUrl = '', url = ''] = /try: curl -x (\S+) (\S+)/.exec(started.output()) ?? []
    const { port, username, password } = new URL(proxyUrl)
    const login = { 'proxy-authorization': `Basic ${btoa(`${username}:${password}`)}` }
    const tried = await proxyGet(Number(port), url, { headers: login })
    expect(tried.status).toBe(200)
    expect(tried.body).toContain(`<dd id="url">/${username}/http://example.com/</dd>`)
  }, 30_000)

  it('loads a TypeScript --app where Node can, and says how where it cannot', async () => {
    await (built ??= build({ logLevel: 'warn' }))
    const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-cli-ts-'))
    writeFileSync(join(cwd, 'fakes.ts'), "export default (): Response => new Response('fake')\n")
    // The built bin under Node alone, as `npx wsgiprox` runs: no loader of the test runner's.
    const args = [join(root, 'dist/cli.mjs'), '--app', 'fakes.ts', '--', process.execPath, '-e', '']
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((done) => {
      execFile(process.execPath, args, { cwd }, (error, _stdout, stderr) => {
        done({ code: typeof error?.code === 'number' ? error.code : 0, stderr })
      })
    })
    if ((process.features as { typescript?: unknown }).typescript) {
      expect({ code, stderr: withoutEnvProxyWarning(stderr) }).toEqual({ code: 0, stderr: '' })
    } else {
      expect(code).toBe(1)
      expect(stderr).toContain(
        `(22.18 and later do): load it with tsx, NODE_OPTIONS=--import=tsx wsgiprox --app ${join(cwd, 'fakes.ts')} ...`
      )
    }
  }, 60_000)

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

/** Whether something accepts a connection on 127.0.0.1:`port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy()
      done(true)
    })
    socket.on('error', () => {
      done(false)
    })
  })
}

describe('npm start and npm run dev', () => {
  let group: number | undefined
  afterEach(() => {
    try {
      // What a failed run left behind: npm's shell or the proxy it orphaned.
      if (group !== undefined) {
        process.kill(-group, 'SIGKILL')
      }
    } catch {
      // the group has ended
    }
    group = undefined
  })

  const sends = {
    'a SIGTERM to npm alone, as a supervisor sends it': (pid: number) => {
      process.kill(pid, 'SIGTERM')
    },
    'Ctrl-C, which a terminal sends npm and the proxy': (pid: number) => {
      process.kill(-pid, 'SIGINT')
    },
  }
  it.each(
    ['start', 'run dev'].flatMap((script) =>
      Object.entries(sends).map(([signal, send]) => [script, signal, send] as const)
    )
  )(
    'npm %s: stops the proxy on %s, exits 0 and leaves nothing listening',
    async (script, _, send) => {
      await (built ??= build({ logLevel: 'warn' }))
      const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-npm-start-'))
      const args = [...script.split(' '), '--', '--port', '0', '--ca-file', join(cwd, 'ca.pem')]
      // A process group of its own, as a shell gives the command it runs.
      const npm = spawn('npm', args, {
        cwd: root,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      group = npm.pid
      const exited = once(npm, 'exit')
      let output = ''
      npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
      const port = await new Promise<number>((done) => {
        npm.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString()
          const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)
          if (match) {
            done(Number(match[1]))
          }
        })
      })
      expect(await listening(port)).toBe(true)
      send(npm.pid ?? 0)
      expect(await exited).toEqual([0, null])
      expect(output).toContain('wsgiprox: stopping;')
      expect(await listening(port)).toBe(false)
    },
    60_000
  )

  it('stops gracefully on a SIGTERM sent the moment the banner is written', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'wsgiprox-banner-signal-'))
    const signals = new EventEmitter()
    const exited = new Promise<number>((exit) => {
      // A supervisor that waits for the banner and stops the proxy as soon as it reads it.
      const stdout = new PassThrough()
      stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('listening on')) {
          signals.emit('SIGTERM')
        }
      })
      const stderr = new PassThrough()
      void main(
        ['--port', '0', '--ca-file', join(cwd, 'ca.pem')],
        { stdout, stderr },
        {
          signals,
          exit,
        }
      )
    })
    expect(await exited).toBe(0)
  })

  it('exits with the same code on a signal that comes once it has stopped', async () => {
    const signals = new EventEmitter()
    const codes: number[] = []
    stopOnSignals(
      Promise.resolve(async () => {}),
      buffers().io,
      { signals, exit: (code) => codes.push(code) }
    )
    signals.emit('SIGINT')
    await vi.waitFor(() => {
      expect(codes).toEqual([0])
    })
    // npm passes on the terminal's Ctrl-C a moment later. A listener must take it: with none,
    // Node lets the signal's default action kill the exiting process (npm start then says 130).
    expect(signals.emit('SIGINT')).toBe(true)
    expect(codes).toEqual([0, 0])
  })
})

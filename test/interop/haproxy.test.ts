/**
 * The recipe of docs/scale.md, run: Debian's HAProxy in TCP mode with send-proxy-v2 and health
 * checks in front of two wsgiprox instances on one CA file. The configuration is the one the
 * document shows, pointed at local ports and with faster checks.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { CertificateAuthority } from '../../src/ca/authority'
import { connectTunnel, rawSocket, requestOver, tlsOverTunnel } from '../helpers/clients'
import type { Seen } from '../helpers/conninfo-app'
import type { Started } from '../helpers/spawn'
import { startListening, TSX_IMPORT } from '../helpers/spawn'
import { missing } from '../helpers/tools'
import { closeSocket, nextMessage, tunnelledSocket } from '../helpers/websockets'

const root = resolve(import.meta.dirname, '../..')

const hasHaproxy = !missing('haproxy')

/** A port nothing listens on now (HAProxy's configuration needs a number). */
async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

/** The configuration block of docs/scale.md, for `front` and the instances on `ports`. */
function recipeConfig(front: number, ports: number[]): string {
  const doc = readFileSync(join(root, 'docs/scale.md'), 'utf8')
  const block = /```haproxy\n([\s\S]*?)```/.exec(doc)?.[1] ?? ''
  const local = block
    .replace('bind :8080', `bind 127.0.0.1:${front}`)
    .replace('inter 2s fall 2 rise 2', 'inter 200ms fall 1 rise 1')
    .replace(/^ {2}server .*\n/gm, '')
  expect(local).not.toBe(block)
  expect(local).toContain(`bind 127.0.0.1:${front}`)
  expect(local).toContain('inter 200ms')
  // The server lines end the backend, which ends the block.
  return local + ports.map((port, i) => `  server proxy${i + 1} 127.0.0.1:${port}\n`).join('')
}

/** Resolves once the output of `child` so far matches `pattern`. */
function outputOf(child: ChildProcess) {
  let output = ''
  const waiters = new Set<() => void>()
  const onData = (chunk: Buffer) => {
    output += chunk.toString()
    waiters.forEach((check) => {
      check()
    })
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  return {
    text: () => output,
    matching(pattern: RegExp): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(output)) {
            waiters.delete(check)
            resolve()
          }
        }
        waiters.add(check)
        child.once('exit', () => {
          reject(new Error(`exited before ${String(pattern)}: ${output}`))
        })
        check()
      })
    },
  }
}

let dir: string
let caPem: string
let instances: Started[] = []
let haproxy: ChildProcess | undefined
let haproxyOutput: ReturnType<typeof outputOf>
let front: number

beforeAll(async () => {
  if (!hasHaproxy) {
    return
  }
  dir = mkdtempSync(join(tmpdir(), 'wsgiprox-haproxy-'))
  // The CA file is made once and handed to every instance, as the recipe distributes it.
  const caFile = join(dir, 'wsgiprox-ca.pem')
  caPem = (await CertificateAuthority.open({ file: caFile })).certPem
  const cli = join(root, 'src/cli/index.ts')
  const app = join(root, 'test/helpers/conninfo-app.ts')
  const flags = ['--port', '0', '--proxy-protocol', '--ca-file', caFile, '--app', app]
  instances = await Promise.all(
    [1, 2].map(() => startListening(['--import', TSX_IMPORT, cli, ...flags], { cwd: dir }))
  )
  front = await freePort()
  writeFileSync(join(dir, 'global.cfg'), 'global\n  log stderr format raw local0 info\n')
  writeFileSync(
    join(dir, 'wsgiprox.cfg'),
    recipeConfig(
      front,
      instances.map((instance) => instance.port)
    )
  )
  haproxy = spawn('haproxy', ['-db', '-f', 'global.cfg', '-f', 'wsgiprox.cfg'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  haproxyOutput = outputOf(haproxy)
  // Up once both instances passed HAProxy's own HTTP check, PROXY header and all.
  await haproxyOutput.matching(/server wsgiprox\/proxy1 succeeded/)
  await haproxyOutput.matching(/server wsgiprox\/proxy2 succeeded/)
}, 60_000)

afterAll(async () => {
  if (haproxy?.exitCode === null) {
    const exited = once(haproxy, 'exit')
    haproxy.kill()
    await exited
  }
  await Promise.all(instances.map((instance) => instance.stop()))
})

/** An absolute-form request through HAProxy on a new connection; what the app saw, and from where. */
async function httpThrough(path: string): Promise<{ seen: Seen; clientPort: number | undefined }> {
  const socket = await rawSocket(front)
  const clientPort = socket.localPort
  const reply = await requestOver(socket, `http://example.com${path}`)
  socket.destroy()
  expect(reply.status).toBe(200)
  return { seen: JSON.parse(reply.body) as Seen, clientPort }
}

describe.skipIf(!hasHaproxy)('behind HAProxy (docs/scale.md)', () => {
  it('serves http, https and wss, and the app sees the client through the PROXY protocol', async () => {
    const pids = new Set<number>()
    for (let i = 0; i < 4; i++) {
      const { seen, clientPort } = await httpThrough(`/h${i}`)
      // HAProxy connects to the instance from a port of its own: seeing the client's port
      // shows the header was read.
      expect(seen).toMatchObject({
        address: '127.0.0.1',
        port: clientPort,
        path: `/http://example.com/h${i}`,
      })
      pids.add(seen.pid)
    }
    expect(pids.size).toBe(2)

    const tunnel = await connectTunnel(front, 'example.com:443')
    expect(tunnel.status).toBe(200)
    const tls = await tlsOverTunnel(tunnel.socket, 'example.com', caPem)
    const secure = await requestOver(tls, '/s')
    expect(JSON.parse(secure.body)).toMatchObject({
      port: tunnel.socket.localPort,
      path: '/https://example.com/s',
    })
    tls.destroy()

    const ws = tunnelledSocket(front, 'wss://example.com/ws', caPem)
    const [response] = (await once(ws, 'upgrade')) as [IncomingMessage]
    const clientPort = response.socket.localPort
    const hello = JSON.parse((await nextMessage(ws)).data.toString()) as Seen
    expect(hello).toMatchObject({ port: clientPort, path: '/https://example.com/ws' })
    await closeSocket(ws)
  }, 30_000)

  it('keeps serving when one instance is killed', async () => {
    const [victim, survivor] = instances.map((instance) => instance.child)
    victim?.kill('SIGKILL')
    if (victim) {
      await once(victim, 'exit')
    }
    // Before HAProxy's check notices, a connection the dead one refuses is redispatched.
    for (let i = 0; i < 4; i++) {
      expect((await httpThrough(`/after-${i}`)).seen.pid).toBe(survivor?.pid)
    }
    await haproxyOutput.matching(/server wsgiprox\/proxy1 failed/)
    for (let i = 0; i < 4; i++) {
      expect((await httpThrough(`/later-${i}`)).seen.pid).toBe(survivor?.pid)
    }
  }, 30_000)
})

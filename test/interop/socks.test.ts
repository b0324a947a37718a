/**
 * SOCKS5 clients users point at the proxy: Python requests with PySocks (`socks5h://`, Debian's
 * python3-socks) and Node with socks-proxy-agent. Each verifies TLS against the CA file only.
 */
import { SocksProxyAgent } from 'socks-proxy-agent'
import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { echoApp } from '../helpers/apps'
import type { Echo } from '../helpers/apps'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'
import { missing, toolPath } from '../helpers/tools'

const run = promisify(execFile)

let running: RunningProxy
let caFile: string
beforeAll(async () => {
  running = await startProxy(echoApp(), { prefix: '/prefix/' })
  caFile = join(mkdtempSync(join(tmpdir(), 'wsgiprox-socks-interop-')), 'ca.pem')
  writeFileSync(caFile, running.caPem)
})
afterAll(async () => {
  await running.close()
})

describe.skipIf(missing('python3-requests', 'python3-socks'))(
  'python requests with pysocks',
  () => {
    it('fetches http and https through socks5h://, verifying the CA', async () => {
      const { stdout } = await run(
        toolPath('python3-socks'),
        [
          '-c',
          `
import json, os, requests
proxy = 'socks5h://user:pw@127.0.0.1:' + os.environ['PORT']
proxies = {'http': proxy, 'https': proxy}
a = requests.get('http://example.com/py?x=1', proxies=proxies).json()
b = requests.get('https://example.com/py?x=2', proxies=proxies, verify=os.environ['CA']).json()
print(json.dumps([a['path'], b['path']]))
`,
        ],
        { env: { ...process.env, PORT: String(running.port), CA: caFile } }
      )
      expect(JSON.parse(stdout)).toEqual([
        '/prefix/http://example.com/py?x=1',
        '/prefix/https://example.com/py?x=2',
      ])
    })
  }
)

describe('node with socks-proxy-agent', () => {
  it('fetches https through socks5h://, verifying the CA', async () => {
    const agent = new SocksProxyAgent(`socks5h://127.0.0.1:${running.port}`)
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        'https://example.com/node?y=1',
        { agent, ca: running.caPem },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('end', () => {
            resolve(Buffer.concat(chunks).toString())
          })
        }
      )
      req.on('error', reject)
      req.end()
    })
    agent.destroy()
    expect((JSON.parse(body) as Echo).path).toBe('/prefix/https://example.com/node?y=1')
  })
})

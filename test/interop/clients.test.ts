/**
 * The proxy driven by the clients users point at it: curl, OpenSSL, Python's requests and
 * http.client. Each verifies TLS against the CA file, as a user who trusted it would.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { echoApp } from '../helpers/apps'
import type { Echo } from '../helpers/apps'
import { sClientThroughProxy } from '../helpers/openssl'
import type { RunningProxy } from '../helpers/proxy'
import { startProxy } from '../helpers/proxy'
import { missing, toolPath } from '../helpers/tools'

const run = promisify(execFile)

let running: RunningProxy
let caFile: string
beforeAll(async () => {
  running = await startProxy(echoApp(), { prefix: '/prefix/' })
  const dir = mkdtempSync(join(tmpdir(), 'wsgiprox-interop-'))
  caFile = join(dir, 'ca.pem')
  writeFileSync(caFile, running.caPem)
})
afterAll(async () => {
  await running.close()
})

const parse = (text: string) => JSON.parse(text) as Echo

describe.skipIf(missing('curl'))('curl', () => {
  it('fetches http through -x', async () => {
    const { stdout } = await run('curl', ['-sS', '-x', running.url, 'http://example.com/a?b=c'])
    expect(parse(stdout)).toMatchObject({
      path: '/prefix/http://example.com/a?b=c',
      proxyHost: 'wsgiprox',
    })
  })

  it('fetches https through -x, verifying against --cacert', async () => {
    const { stdout } = await run('curl', [
      '-sS',
      '--cacert',
      caFile,
      '-x',
      running.url,
      'https://example.com/a?b=c',
    ])
    expect(parse(stdout).path).toBe('/prefix/https://example.com/a?b=c')
  })

  it('fetches http through a CONNECT tunnel with --proxytunnel', async () => {
    const { stdout } = await run('curl', [
      '-sS',
      '-p',
      '-x',
      running.url,
      'http://example.com:8080/t',
    ])
    expect(parse(stdout).path).toBe('/prefix/http://example.com:8080/t')
  })

  it('fetches https on a custom port and an IP address host', async () => {
    const custom = await run('curl', [
      '-sS',
      '--cacert',
      caFile,
      '-x',
      running.url,
      'https://example.com:8443/p',
    ])
    expect(parse(custom.stdout).path).toBe('/prefix/https://example.com:8443/p')
    const ip = await run('curl', [
      '-sS',
      '--cacert',
      caFile,
      '-x',
      running.url,
      'https://127.0.0.1/ip',
    ])
    expect(parse(ip.stdout).path).toBe('/prefix/https://127.0.0.1/ip')
  })

  it('posts a body over https and downloads the CA from the proxy host', async () => {
    const { stdout } = await run('curl', [
      '-sS',
      '--cacert',
      caFile,
      '-x',
      running.url,
      '--data-binary',
      'hello body',
      'https://example.com/post',
    ])
    expect(parse(stdout)).toMatchObject({ method: 'POST', body: 'hello body' })
    const pem = await run('curl', ['-sS', '-x', running.url, 'http://wsgiprox/download/pem'])
    expect(pem.stdout).toBe(running.caPem)
  })

  it('fails verification without the CA, as it should', async () => {
    await expect(run('curl', ['-sS', '-x', running.url, 'https://example.com/'])).rejects.toThrow(
      /certificate/
    )
  })
})

describe.skipIf(missing('openssl'))('openssl s_client', () => {
  it('verifies the host certificate through the proxy', async () => {
    const { code, stdout, stderr } = await sClientThroughProxy({
      proxyPort: running.port,
      connect: 'example.com:443',
      servername: 'example.com',
      caFile,
      request: 'GET /ossl HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n',
    })
    expect(stderr).toMatch(/Verification: OK/)
    expect(stdout).toContain('/prefix/https://example.com/ossl')
    expect(code).toBe(0)
  })
})

describe.skipIf(missing('python3-requests'))('python', () => {
  const python = (script: string) =>
    run(toolPath('python3-requests'), ['-c', script], {
      env: { ...process.env, PROXY: running.url, CA: caFile },
    })

  it('requests fetches http and https through the proxy, verifying the CA', async () => {
    const { stdout } = await python(`
import json, os, requests
proxies = {'http': os.environ['PROXY'], 'https': os.environ['PROXY']}
a = requests.get('http://example.com/py?x=1', proxies=proxies).json()
b = requests.get('https://example.com/py?x=2', proxies=proxies, verify=os.environ['CA']).json()
c = requests.post('https://example.com/up', data=b'x' * 100000, proxies=proxies, verify=os.environ['CA']).json()
print(json.dumps([a['path'], b['path'], len(c['body'])]))
`)
    expect(JSON.parse(stdout)).toEqual([
      '/prefix/http://example.com/py?x=1',
      '/prefix/https://example.com/py?x=2',
      100000,
    ])
  })

  // urllib3 1.26 and later speak TLS to a proxy whose URL is https://, as in the original
  // wsgiprox's own tests: https:// URLs then run TLS inside that TLS.
  it('requests uses an https:// proxy URL, TLS to the proxy itself', async () => {
    const { stdout } = await python(`
import io, json, os, requests
proxy = os.environ['PROXY'].replace('http://127.0.0.1', 'https://localhost')
proxies = {'http': proxy, 'https': proxy}
a = requests.get('http://example.com/py?x=1', proxies=proxies, verify=os.environ['CA']).json()
b = requests.get('https://example.com/py?x=2', proxies=proxies, verify=os.environ['CA']).json()
c = requests.post('https://example.com/post', data=io.BytesIO(b'ABC=1&xyz=2'), proxies=proxies, verify=os.environ['CA']).json()
d = requests.get('https://wsgiprox/download/pem', proxies=proxies, verify=os.environ['CA'])
print(json.dumps([a['path'], b['path'], c['body'], d.headers['Content-Type']]))
`)
    expect(JSON.parse(stdout)).toEqual([
      '/prefix/http://example.com/py?x=1',
      '/prefix/https://example.com/py?x=2',
      'ABC=1&xyz=2',
      'application/x-x509-ca-cert',
    ])
  })

  it('http.client tunnels to an IP address and names the real host in SNI', async () => {
    const { stdout } = await python(`
import http.client, json, os, ssl
ctx = ssl.create_default_context(cafile=os.environ['CA'])
port = int(os.environ['PROXY'].rsplit(':', 1)[1])
conn = http.client.HTTPConnection('127.0.0.1', port)
conn.set_tunnel('10.0.0.1', 443)
conn.connect()
# The SNI override: the tunnel goes to an IP, the TLS session names the real host.
conn.sock = ctx.wrap_socket(conn.sock, server_hostname='sni.example.org')
conn.request('GET', '/sni', headers={'Host': 'sni.example.org'})
print(conn.getresponse().read().decode())
`)
    expect(parse(stdout).path).toBe('/prefix/https://sni.example.org/sni')
  })
})

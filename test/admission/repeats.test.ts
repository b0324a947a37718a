/**
 * The gate keeps each connection's last decision where it depends on the request alone (a
 * tunnel's last request, a direct connection's last absolute-form one), so that a client asking
 * again is not parsed again. Kept decisions must
 * never show: every request in a long mixed sequence is decided as a gate that has seen nothing
 * decides it, whatever came before it (other hosts in the same tunnel, a changed SNI name, a
 * CONNECT, credentials, another tunnel, the same target refused or served).
 */
import { describe, expect, it } from 'vitest'
import type { Admission, AskedRequest, TunnelIdentity } from '../../src/admission/decision'
import type { Gate } from '../../src/admission/gate'
import { FixedResolver, ProxyAuthResolver } from '../../src/admission/resolvers'
import type { Resolver } from '../../src/types'
import { asked, ME, OWN_ADDRESS, PROXY_HOST, REALM, testGate, tunnel } from '../helpers/gate'

/** A small deterministic generator (mulberry32), so that a failing sequence can be replayed. */
function random(seed: number): (n: number) => number {
  let state = seed >>> 0
  return (n) => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n)
  }
}

const TARGETS_DIRECT = [
  'http://example.com/',
  'http://example.com/a?b',
  'http://Example.COM:80/',
  'http://example.com:8080/',
  'https://example.com/',
  'http://other.example/',
  `http://${PROXY_HOST}/proxy.pac`,
  'http://exa mple.com/',
  'http://example.com/a/../b',
  'ftp://example.com/',
]
const TARGETS_TUNNEL = [
  '/',
  '/a?b',
  '/a/../../b',
  'https://example.com/',
  'https://other.example/',
  'https://example.com:8443/',
]
const HOSTS = [undefined, 'example.com', 'EXAMPLE.com', 'example.com:443', 'other.example', 'a b']
const METHODS = ['GET', 'GET', 'POST', 'HEAD', 'CONNECT']
const SNI = [undefined, 'www.example.com']
/** Two direct connections: each keeps its own last decision. */
const SOCKETS = [{ ...OWN_ADDRESS }, { ...OWN_ADDRESS }]

/** One request of a sequence: where it comes (a tunnel's index, or direct) and what it asks. */
interface Step {
  tunnel: number | undefined
  request: AskedRequest
  sni: string | undefined
}

/**
 * `length` requests: half of them new, half the one before with one thing changed (its Host, its
 * :authority, its target, its method, its credentials or the SNI name), which is where a kept
 * decision would wrongly be reused.
 */
function sequence(seed: number, length: number): Step[] {
  const pick = random(seed)
  const one = <T>(list: readonly T[]): T => list[pick(list.length)] as T
  const steps: Step[] = []
  let last: Parts | undefined
  for (let i = 0; i < length; i++) {
    let parts: Parts
    if (last && pick(2) === 0) {
      parts = { ...last }
      const targets = parts.tunnel === undefined ? TARGETS_DIRECT : TARGETS_TUNNEL
      const change = pick(6)
      if (change === 0) {
        parts.host = one(HOSTS)
      }
      if (change === 1) {
        parts.authority = one(HOSTS)
      }
      if (change === 2) {
        parts.target = one(targets)
      }
      if (change === 3) {
        parts.method = one(METHODS)
      }
      if (change === 4) {
        parts.credentials = !parts.credentials
      }
      if (change === 5) {
        parts.sni = one(SNI)
      }
    } else {
      const inTunnel = pick(3) > 0
      parts = {
        tunnel: inTunnel ? pick(2) : undefined,
        socket: pick(SOCKETS.length),
        host: one(HOSTS),
        authority: pick(3) === 0 ? one(HOSTS) : undefined,
        target: one(inTunnel ? TARGETS_TUNNEL : TARGETS_DIRECT),
        method: one(METHODS),
        credentials: pick(4) === 0,
        sni: one(SNI),
      }
    }
    last = parts
    const headers: [string, string][] = []
    if (parts.host !== undefined) {
      headers.push(['Host', parts.host])
    }
    // As HTTP/2 sends the host.
    if (parts.authority !== undefined) {
      headers.push([':authority', parts.authority])
    }
    if (parts.credentials) {
      headers.push(['Proxy-Authorization', ME])
    }
    steps.push({
      tunnel: parts.tunnel,
      request: asked(parts.method, parts.target, headers, SOCKETS[parts.socket]),
      sni: parts.sni,
    })
  }
  return steps
}

/** What a step is made of. */
interface Parts {
  tunnel: number | undefined
  /** The direct connection it comes on. */
  socket: number
  host: string | undefined
  authority: string | undefined
  target: string
  method: string
  credentials: boolean
  sni: string | undefined
}

async function decide(
  gate: Gate,
  at: TunnelIdentity | undefined,
  request: AskedRequest
): Promise<Admission> {
  return gate.admitRequest(at, request)
}

/** Run `steps` through one gate and check each decision against a new gate's. */
async function expectSameAsFresh(resolver: () => Resolver, steps: Step[]): Promise<number> {
  const kept = testGate(resolver()).gate
  const tunnels = [tunnel('example.com', 443), tunnel('example.com', 443)]
  let served = 0
  for (const [index, step] of steps.entries()) {
    const at = step.tunnel === undefined ? undefined : tunnels[step.tunnel]
    if (at) {
      // The SNI name is admitted once per handshake; a later one is a new name for the tunnel.
      if (step.sni === undefined) {
        delete at.sni
      } else {
        at.sni = step.sni
      }
    }
    const fresh = testGate(resolver()).gate
    const copy = at && { ...at }
    const expected = await decide(fresh, copy, step.request)
    const actual = await decide(kept, at, step.request)
    expect({ index, actual }).toEqual({ index, actual: expected })
    served += expected.kind === 'serve' ? 1 : 0
  }
  return served
}

describe('decisions the gate keeps', () => {
  it('never differ from a gate that has seen nothing (FixedResolver, 3 sequences of 600)', async () => {
    for (const seed of [1, 2, 3]) {
      const served = await expectSameAsFresh(
        () => new FixedResolver('/prefix/'),
        sequence(seed, 600)
      )
      // The sequences mix served and refused requests, or they would prove little.
      expect(served).toBeGreaterThan(100)
      expect(served).toBeLessThan(500)
    }
  })

  it('never differ with a resolver that asks for credentials (ProxyAuthResolver)', async () => {
    const served = await expectSameAsFresh(() => new ProxyAuthResolver(REALM), sequence(4, 600))
    expect(served).toBeGreaterThan(20)
  })

  it('are not reused when only the Host inside a tunnel changes', () => {
    const { gate } = testGate(new FixedResolver())
    const at = tunnel('example.com', 443)
    const first = gate.admitRequest(at, asked('GET', '/', [['Host', 'example.com']]))
    const second = gate.admitRequest(at, asked('GET', '/', [['Host', 'other.example']]))
    const third = gate.admitRequest(at, asked('GET', '/', [['Host', 'example.com']]))
    expect(first).toMatchObject({ kind: 'serve', path: '/https://example.com/' })
    expect(second).toMatchObject({ kind: 'refuse', status: 421 })
    expect(third).toEqual(first)
  })

  it('are not reused once the tunnel has another SNI name', () => {
    const { gate } = testGate(new FixedResolver())
    const at = tunnel('example.com', 443)
    const request = () => asked('GET', '/a', [['Host', 'www.example.com']])
    expect(gate.admitRequest(at, request())).toMatchObject({ kind: 'refuse', status: 421 })
    at.sni = 'www.example.com'
    expect(gate.admitRequest(at, request())).toMatchObject({
      kind: 'serve',
      path: '/https://www.example.com/a',
    })
  })

  it('are never read by another gate on the same connection', () => {
    const a = testGate(new FixedResolver('/a/')).gate
    const b = testGate(new FixedResolver('/b/')).gate
    const socket = { ...OWN_ADDRESS }
    const request = () => asked('GET', 'http://example.com/', [['Host', 'example.com']], socket)
    expect(a.admitRequest(undefined, request())).toMatchObject({
      path: '/a/http://example.com/',
    })
    expect(b.admitRequest(undefined, request())).toMatchObject({
      path: '/b/http://example.com/',
    })
    const at = tunnel('example.com', 443)
    const inTunnel = () => asked('GET', '/', [['Host', 'example.com']])
    expect(a.admitRequest(at, inTunnel())).toMatchObject({ path: '/a/https://example.com/' })
    expect(b.admitRequest(at, inTunnel())).toMatchObject({ path: '/b/https://example.com/' })
  })

  it('do not come along when a tunnel identity is copied with another scheme', () => {
    const { gate } = testGate(new FixedResolver())
    const plain = tunnel('example.com', 443, { scheme: 'http' })
    const request = () => asked('GET', '/', [['Host', 'example.com']])
    expect(gate.admitRequest(plain, request())).toMatchObject({ path: '/http://example.com:443/' })
    const secure: TunnelIdentity = { ...plain, scheme: 'https' }
    expect(gate.admitRequest(secure, request())).toMatchObject({ path: '/https://example.com/' })
  })
})

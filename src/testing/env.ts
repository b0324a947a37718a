/**
 * The environment a child process needs to go through the proxy and trust its CA, for the
 * clients that read such variables (curl, Python, Node, OpenSSL-based tools, git, AWS SDKs).
 * @module
 */

/**
 * Hosts that never go through the proxy: loopback only. A test's own servers (an app server on
 * 127.0.0.1, the test runner's helpers) must be reached directly, since the proxy answers every
 * request itself; every other host, the faked sites included, goes through the proxy. Setting it
 * also replaces a NO_PROXY inherited from the user's shell, which could exclude a faked site.
 * The IPv6 loopback is there twice: curl and Python match `::1`, while undici (Node's own
 * NODE_USE_ENV_PROXY, `EnvHttpProxyAgent`) reads `::1` as host `:` port 1 and matches `[::1]`.
 */
export const NO_PROXY = 'localhost,127.0.0.1,::1,[::1]'

/**
 * The variables that send clients through `proxyUrl` and make them trust the CA certificate in
 * `caFile` (the certificate alone, never the key). docs/testing.md says who reads each one.
 */
export function proxyEnv(proxyUrl: string, caFile: string): Record<string, string> {
  return {
    HTTP_PROXY: proxyUrl,
    HTTPS_PROXY: proxyUrl,
    http_proxy: proxyUrl,
    https_proxy: proxyUrl,
    NO_PROXY,
    no_proxy: NO_PROXY,
    // Node 24 (and 22.21) read the proxy variables only when asked to (nodejs/node#57872).
    NODE_USE_ENV_PROXY: '1',
    NODE_EXTRA_CA_CERTS: caFile,
    SSL_CERT_FILE: caFile,
    REQUESTS_CA_BUNDLE: caFile,
    CURL_CA_BUNDLE: caFile,
    GIT_SSL_CAINFO: caFile,
    AWS_CA_BUNDLE: caFile,
    DENO_CERT: caFile,
  }
}

/** Characters a shell word may hold without quoting. */
const PLAIN = /^[\w@%+=:,./-]+$/

/** `env` as `export NAME=value` lines a POSIX shell can `eval`. */
export function exportLines(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([name, value]) => {
      const word = PLAIN.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`
      return `export ${name}=${word}\n`
    })
    .join('')
}

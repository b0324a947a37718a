/**
 * The install steps of the landing page, as data: one section per platform or client, each
 * with the proxy settings that go with trusting the CA. The README carries the same text.
 * @module
 */

/** A block of commands or code, shown as it is. */
export interface CodeBlock {
  lang: 'sh' | 'bat' | 'python' | 'js'
  code: string
}

/** One platform or client: paragraphs (`backticks` mark code) and code blocks, in order. */
export interface InstallSection {
  /** The anchor, `windows`. */
  id: string
  title: string
  body: (string | CodeBlock)[]
}

/** A heading over several sections. */
export interface InstallGroup {
  title: string
  sections: InstallSection[]
}

/** What the steps are filled in with. */
export interface StepsContext {
  /** The proxy's host as clients reach it, `127.0.0.1`. */
  proxyHost: string
  /** The proxy's port, `8080`. */
  proxyPort: string
  /** The host serving this page and the downloads, `wsgiprox`. */
  downloadHost: string
  /** The CA's name, as the OS lists it. */
  caName: string
}

/** The files the downloads are saved as, and the steps refer to. */
export const CA_FILES = {
  pem: 'wsgiprox-ca-cert.pem',
  p12: 'wsgiprox-ca.p12',
  cer: 'wsgiprox-ca.cer',
} as const

const { pem, cer } = CA_FILES
const sh = (code: string): CodeBlock => ({ lang: 'sh', code })

/** The shell command that fetches the PEM certificate through the proxy (plain http). */
export function downloadCommand(ctx: StepsContext): string {
  const proxy = `http://${ctx.proxyHost}:${ctx.proxyPort}`
  return `curl -x ${proxy} -o ${pem} http://${ctx.downloadHost}/download/pem`
}

/** The install steps, grouped: systems and browsers first, then developer tools. */
export function installGroups(ctx: StepsContext): InstallGroup[] {
  const { proxyHost: host, proxyPort: port, downloadHost } = ctx
  const proxy = `http://${host}:${port}`
  // A phone cannot reach the computer's loopback address: it needs the one on the network.
  const device = isLoopback(host) ? '<computer’s address>' : host
  const remote =
    'The device must reach the proxy over your network: start the proxy with `--host 0.0.0.0` ' +
    'and use this computer’s address on the network.'
  return [
    {
      title: 'Systems and browsers',
      sections: [
        {
          id: 'windows',
          title: 'Windows',
          body: [
            `Download \`${cer}\`, double-click it, then Install Certificate → Current User → Place all certificates in the following store → Trusted Root Certification Authorities → Finish, and confirm the warning. Or in a terminal:`,
            { lang: 'bat', code: `certutil -user -addstore Root ${cer}` },
            `Set the proxy under Settings → Network & internet → Proxy → Manual proxy setup: address \`${host}\`, port \`${port}\`. Edge and Chrome use this store and this setting; Firefox has its own (below).`,
          ],
        },
        {
          id: 'macos',
          title: 'macOS',
          body: [
            `Download \`${cer}\` and double-click it: Keychain Access adds it to the login keychain. Open the certificate there, and under Trust set When using this certificate to Always Trust. Or in a terminal:`,
            sh(
              `sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${cer}`
            ),
            `Set the proxy under System Settings → Network → your network → Details → Proxies: Web proxy (HTTP) and Secure web proxy (HTTPS), server \`${host}\`, port \`${port}\`. Or:`,
            sh(
              `networksetup -setwebproxy Wi-Fi ${host} ${port}\nnetworksetup -setsecurewebproxy Wi-Fi ${host} ${port}`
            ),
          ],
        },
        {
          id: 'ios',
          title: 'iOS and iPadOS',
          body: [
            remote,
            `Settings → Wi-Fi → the (i) button beside your network → Configure Proxy → Manual: server \`${device}\`, port \`${port}\`.`,
            `Open \`http://${downloadHost}/download/pem\` in Safari and allow the download. Install it under Settings → General → VPN & Device Management, then turn on full trust for “${ctx.caName}” under Settings → General → About → Certificate Trust Settings.`,
          ],
        },
        {
          id: 'android',
          title: 'Android',
          body: [
            remote,
            `Settings → Network & internet → Internet → your network → Edit → Advanced options → Proxy → Manual: host name \`${device}\`, port \`${port}\`.`,
            `Download \`http://${downloadHost}/download/cer\`, then Settings → Security & privacy → More security & privacy → Encryption & credentials → Install a certificate → CA certificate (names vary by maker), and pick \`${cer}\`.`,
            'Browsers trust CAs you install; other apps only when their network security config allows `<certificates src="user" />`.',
          ],
        },
        {
          id: 'linux',
          title: 'Linux system store',
          body: [
            'Copy it into the system store and rebuild the bundle:',
            sh(
              `# Debian, Ubuntu\nsudo cp ${pem} /usr/local/share/ca-certificates/wsgiprox.crt && sudo update-ca-certificates\n# Fedora, RHEL\nsudo cp ${pem} /etc/pki/ca-trust/source/anchors/wsgiprox.pem && sudo update-ca-trust`
            ),
            'Tools using OpenSSL or GnuTLS then trust it (curl, wget, git, Python’s `ssl`, Go). Firefox, Chromium, Node and Python requests keep their own (below). The proxy for most command-line tools (curl reads only the lower-case `http_proxy`):',
            sh(`export http_proxy=${proxy} https_proxy=${proxy}`),
          ],
        },
        {
          id: 'firefox',
          title: 'Firefox',
          body: [
            `Settings → General → Network Settings → Settings… → Manual proxy configuration: HTTP Proxy \`${host}\`, Port \`${port}\`, and tick Also use this proxy for HTTPS.`,
            `Firefox has its own store: Settings → Privacy & Security → Certificates → View Certificates… → Authorities → Import…, pick \`${pem}\` and tick Trust this CA to identify websites. On Windows and macOS it can use the OS store instead: set \`security.enterprise_roots.enabled\` to \`true\` in \`about:config\`. From a shell, with Firefox closed:`,
            sh(`certutil -d sql:$HOME/.mozilla/firefox/<profile> -A -t C,, -n wsgiprox -i ${pem}`),
            'To send `localhost` through the proxy as well, set `network.proxy.allow_hijacking_localhost` to `true`.',
          ],
        },
        {
          id: 'chromium',
          title: 'Chromium and Chrome on Linux',
          body: [
            'They read the NSS database in your home folder (Settings → Privacy and security → Security → Manage certificates edits it too). Create it if it does not exist, import the certificate, then start the browser with the proxy:',
            sh(
              `mkdir -p $HOME/.pki/nssdb && certutil -d sql:$HOME/.pki/nssdb -N --empty-password  # only once\ncertutil -d sql:$HOME/.pki/nssdb -A -t C,, -n wsgiprox -i ${pem}\nchromium --proxy-server=${proxy}`
            ),
            'On Windows and macOS they use the OS store (above).',
          ],
        },
      ],
    },
    {
      title: 'Developer tools',
      sections: [
        {
          id: 'curl',
          title: 'curl',
          body: [
            sh(`curl -x ${proxy} --cacert ${pem} https://example.com/`),
            'Or for every curl in this shell:',
            sh(
              `export https_proxy=${proxy} http_proxy=${proxy}\nexport CURL_CA_BUNDLE=$PWD/${pem}`
            ),
          ],
        },
        {
          id: 'python',
          title: 'Python',
          body: [
            'requests uses certifi’s bundle, not the system store; `REQUESTS_CA_BUNDLE` replaces it:',
            sh(
              `export HTTPS_PROXY=${proxy} HTTP_PROXY=${proxy}\nexport REQUESTS_CA_BUNDLE=$PWD/${pem}\npython3 -c "import requests; print(requests.get('https://example.com/').status_code)"`
            ),
            `Or in code: \`requests.get(url, proxies={'https': '${proxy}'}, verify='${pem}')\`. The \`ssl\` module (urllib, http.client) reads \`SSL_CERT_FILE\`:`,
            sh(
              `export HTTPS_PROXY=${proxy} SSL_CERT_FILE=$PWD/${pem}\npython3 -c "import urllib.request; print(urllib.request.urlopen('https://example.com/').status)"`
            ),
          ],
        },
        {
          id: 'node',
          title: 'Node.js',
          body: [
            'Node adds `NODE_EXTRA_CA_CERTS` to its bundled roots when it starts. On Node 22.21 and later, 24 and 26, `NODE_USE_ENV_PROXY=1` makes the global `fetch` and the `http` and `https` modules use `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` (Node 22 warns that this is experimental):',
            sh(
              `NODE_USE_ENV_PROXY=1 HTTPS_PROXY=${proxy} NODE_EXTRA_CA_CERTS=$PWD/${pem} \\\n  node -e "fetch('https://example.com/').then((r) => console.log(r.status))"`
            ),
            'Node 20 ignores these variables: pass undici’s `ProxyAgent` to `fetch` (or `https-proxy-agent` as the `agent` of `https.request`).',
            sh(`NODE_EXTRA_CA_CERTS=$PWD/${pem} node app.mjs`),
            {
              lang: 'js',
              code: `// app.mjs\nimport { fetch, ProxyAgent } from 'undici'\nconst dispatcher = new ProxyAgent('${proxy}')\nconsole.log((await fetch('https://example.com/', { dispatcher })).status)`,
            },
            'Never set `NODE_TLS_REJECT_UNAUTHORIZED=0`: it turns off checking for every host.',
          ],
        },
        {
          id: 'java',
          title: 'Java',
          body: [
            'Import it into a trust store, then run with that store and the proxy:',
            sh(
              `keytool -importcert -noprompt -alias wsgiprox -file ${pem} -keystore wsgiprox.jks -storepass changeit\njava -Djavax.net.ssl.trustStore=wsgiprox.jks -Djavax.net.ssl.trustStorePassword=changeit \\\n  -Dhttps.proxyHost=${host} -Dhttps.proxyPort=${port} -Dhttp.proxyHost=${host} -Dhttp.proxyPort=${port} -jar app.jar`
            ),
            'Or add it to the JDK’s own store: `keytool -importcert -cacerts -alias wsgiprox -file ' +
              `${pem}\` (default password \`changeit\`). \`java.net.http.HttpClient.newHttpClient()\` uses these proxy settings too, as \`HttpURLConnection\` does.`,
          ],
        },
        {
          id: 'go',
          title: 'Go',
          body: [
            '`net/http` uses the system store (above) and reads `HTTPS_PROXY`; on Linux `SSL_CERT_FILE` names a bundle instead. Requests to `localhost` never use the proxy.',
            sh(`HTTPS_PROXY=${proxy} HTTP_PROXY=${proxy} SSL_CERT_FILE=$PWD/${pem} go run .`),
          ],
        },
        {
          id: 'git',
          title: 'git',
          body: [
            sh(
              `git -c http.proxy=${proxy} -c http.sslCAInfo=$PWD/${pem} clone https://example.com/repo.git`
            ),
            'To keep it, `git config --global http.proxy …` and `git config --global http.sslCAInfo …` with the same values. `GIT_SSL_CAINFO`, when set, wins over `http.sslCAInfo`.',
          ],
        },
      ],
    },
  ]
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || host.startsWith('127.')
}

/**
 * The landing page on the download host: what the proxy and its CA are, the downloads, the
 * install steps per platform and client, and a check of whether this browser trusts the CA.
 * Plain HTML with hono/html escaping and one small script; no framework.
 * @module
 */
import { html, raw } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'
import { addressHost } from '../admission/target'
import type { CertificateAuthority } from '../ca/authority'
import { CA_FILES, downloadCommand, installGroups } from './landing-steps'
import type { CodeBlock, InstallSection, StepsContext } from './landing-steps'

/** Where the page was requested, as far as the server can tell. */
export interface LandingContext {
  /** The download host, `wsgiprox`. */
  downloadHost: string
  /** The proxy's address as this client reached it, `{ host: '127.0.0.1', port: 8080 }`. */
  proxy: { host: string; port: number } | undefined
  /** Whether the proxy also speaks SOCKS5 and serves the PAC file. */
  ways?: { socks: boolean; pac: boolean }
}

/** What the self-check shows; the tests read these. */
export const TRUST_MESSAGES = {
  checking: 'Checking whether this browser trusts the CA…',
  trusted: 'Yes, this browser trusts the CA: https:// sites through this proxy work.',
  untrusted:
    'No, this browser does not trust the CA yet: install it with the steps below, then reload this page.',
} as const

// Static, so nothing in it needs escaping: it reads the check URL from a data attribute. An
// https request to the download host succeeds only when the browser accepts the certificate
// the proxy makes for it, that is when it trusts the CA; CORS lets the http page read it.
const CHECK_SCRIPT = `
const status = document.getElementById('trust-check')
const show = (state) => {
  status.dataset.state = state
  status.textContent = status.dataset[state]
}
fetch(status.dataset.checkUrl, { cache: 'no-store', signal: AbortSignal.timeout(15000) })
  .then((response) => response.json())
  .then((body) => show(body.secure === true ? 'trusted' : 'untrusted'))
  .catch(() => show('untrusted'))
`

/** The look of the proxy's own pages: this one, and the CLI's demo app. */
export const PAGE_STYLE = `
body { font: 16px/1.5 system-ui, sans-serif; max-width: 52rem; margin: 0 auto; padding: 1rem 1.5rem 3rem; color: #1b1f24; }
code, pre { font: 0.9em/1.4 ui-monospace, monospace; }
pre { background: #f3f4f6; padding: 0.6rem 0.8rem; border-radius: 4px; white-space: pre-wrap; overflow-wrap: anywhere; }
#fingerprint { font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
dt { font-weight: 600; }
.downloads a { display: inline-block; margin: 0 0.5rem 0.5rem 0; padding: 0.5rem 1rem; border-radius: 4px; background: #0b57d0; color: #fff; text-decoration: none; }
#trust-check { padding: 0.75rem 1rem; border-radius: 4px; border: 2px solid #8a8f98; font-weight: 600; }
#trust-check[data-state='trusted'] { border-color: #137333; background: #e6f4ea; }
#trust-check[data-state='untrusted'] { border-color: #b3261e; background: #fce8e6; }
nav ul { columns: 2; }
`

/** Render the landing page for `ca`. */
export function landingPage(ca: CertificateAuthority, where: LandingContext) {
  const ctx: StepsContext = {
    proxyHost: where.proxy ? addressHost(where.proxy.host) : '<proxy host>',
    proxyPort: where.proxy ? String(where.proxy.port) : '<port>',
    downloadHost: where.downloadHost,
    caName: ca.name,
  }
  const groups = installGroups(ctx)
  const proxyNote = where.proxy
    ? html`Below, <code>http://${ctx.proxyHost}:${ctx.proxyPort}</code> is the proxy as this browser
        reached it.`
    : html`Below, <code>&lt;proxy host&gt;</code> and <code>&lt;port&gt;</code> stand for the
        address the proxy listens on.`
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Trust the ${ca.name}</title>
        <style>
          ${raw(PAGE_STYLE)}
        </style>
      </head>
      <body>
        <header>
          <h1>Trust the ${ca.name}</h1>
          <p>
            This is a wsgiprox proxy: it answers every request sent through it, http and https, with
            a local app instead of the real site. To answer https, it makes a certificate for each
            site on the fly, signed by its own certificate authority (CA) below. Your browser or
            tool accepts those certificates once it trusts that one CA.
          </p>
        </header>
        <main>
          <p
            id="trust-check"
            role="status"
            aria-live="polite"
            data-check-url="https://${where.downloadHost}/download/check"
            data-trusted="${TRUST_MESSAGES.trusted}"
            data-untrusted="${TRUST_MESSAGES.untrusted}"
          >
            ${TRUST_MESSAGES.checking}
          </p>
          <noscript><p>The trust check needs JavaScript.</p></noscript>
          <h2 id="ca">The CA</h2>
          <dl>
            <dt>Name</dt>
            <dd id="ca-name">${ca.name}</dd>
            <dt>SHA-256 fingerprint</dt>
            <dd id="fingerprint">${ca.fingerprint256}</dd>
            <dt>Valid</dt>
            <dd id="validity">
              from
              <time id="valid-from" datetime="${iso(ca.validFrom)}">${day(ca.validFrom)}</time> to
              <time id="valid-to" datetime="${iso(ca.validTo)}">${day(ca.validTo)}</time>
            </dd>
          </dl>
          <h2 id="download">Download the certificate</h2>
          <p class="downloads">
            <a id="download-pem" href="/download/pem">PEM (${CA_FILES.pem})</a>
            <a id="download-p12" href="/download/p12">PKCS#12 (${CA_FILES.p12})</a>
            <a id="download-cer" href="/download/cer">DER (${CA_FILES.cer})</a>
          </p>
          <p>
            PEM for Linux, browsers and developer tools; PKCS#12 (empty password) or DER for Windows
            and macOS; DER for Android. None of them holds the CA's private key. From a shell:
          </p>
          <pre><code class="language-sh">${downloadCommand(ctx)}</code></pre>
          <p>
            Trust this CA only on devices you control, and remove it when you are done: whoever
            holds its key can pose as any site to them. Before you trust it, compare the fingerprint
            above with the one <code>wsgiprox ca init</code> prints.
          </p>
          ${waysIn(ctx, where)}
          <h2 id="install">Install it</h2>
          <p>${proxyNote}</p>
          <nav aria-label="Install steps">
            <ul>
              ${groups.flatMap((group) =>
                group.sections.map(
                  (section) => html`<li><a href="#${section.id}">${section.title}</a></li>`
                )
              )}
            </ul>
          </nav>
          ${groups.map(
            (group) =>
              html`<h2>${group.title}</h2>
                ${group.sections.map(renderSection)}`
          )}
        </main>
        <script>
          ${raw(CHECK_SCRIPT)}
        </script>
      </body>
    </html>`
}

/** How to point a client at the proxy: HTTP, SOCKS5 and the PAC file, as this client reached it. */
function waysIn(ctx: StepsContext, where: LandingContext) {
  if (!where.proxy) {
    return ''
  }
  const address = `${ctx.proxyHost}:${ctx.proxyPort}`
  const pacUrl = `http://${address}/proxy.pac`
  return html`<h2 id="ways-in">Point a client at the proxy</h2>
    <dl>
      <dt>HTTP proxy (http and https)</dt>
      <dd id="http-proxy"><code>http://${address}</code></dd>
      ${
        where.ways?.socks
          ? html`<dt>SOCKS5 (same port)</dt>
              <dd id="socks-address"><code>socks5h://${address}</code></dd>`
          : ''
      }
      ${
        where.ways?.pac
          ? html`<dt>PAC file (automatic proxy configuration URL)</dt>
              <dd id="pac-url"><a href="${pacUrl}">${pacUrl}</a></dd>`
          : ''
      }
    </dl>`
}

function renderSection(section: InstallSection) {
  return html`<section id="${section.id}" aria-labelledby="${section.id}-title">
    <h3 id="${section.id}-title">${section.title}</h3>
    ${section.body.map((part) =>
      typeof part === 'string' ? html`<p>${prose(part)}</p>` : renderCode(part)
    )}
  </section>`
}

function renderCode(block: CodeBlock) {
  return html`<pre><code class="language-${block.lang}">${block.code}</code></pre>`
}

/** Text whose `backticked` parts are code, escaped piece by piece. */
function prose(text: string): (string | HtmlEscapedString | Promise<HtmlEscapedString>)[] {
  return text.split('`').map((piece, i) => (i % 2 === 1 ? html`<code>${piece}</code>` : piece))
}

const iso = (date: Date) => date.toISOString()
const day = (date: Date) => date.toISOString().slice(0, 10)

import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'vitest'
import { closeHttpServer, expectDocRunsHere, listening, mountingScenarios, tlsTransport, type FrameworkServer } from './scenario'

/**
 * wirecall on a `node:https` server: wss:// on the port of the HTTPS routes.
 * The certificate is made here, self-signed for 127.0.0.1 by the `openssl`
 * CLI, and the clients trust it through `{ ca }` (never by turning
 * verification off). The server below is the one of docs/frameworks/https.md.
 */

/** A key and a self-signed certificate for IP 127.0.0.1, valid for a day. */
function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'wirecall-tls-'))
  try {
    // prettier-ignore
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'pipe' })
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const { key, cert } = selfSignedCertificate()

async function startHttps(): Promise<FrameworkServer> {
  const httpServer = createServer({ key, cert }, (req, res) => {
    if (req.url === '/health') res.end('ok')
    else res.writeHead(404).end()
  })
  httpServer.listen(0, '127.0.0.1')
  return { httpServer, origin: await listening(httpServer, 'https'), close: () => closeHttpServer(httpServer) }
}

describe('node:https (wss://)', () => {
  // The certificate is its own CA: the client trusts exactly it.
  mountingScenarios(startHttps, { transport: tlsTransport(cert) })

  it('docs/frameworks/https.md: every line of its snippets runs here', () => {
    expectDocRunsHere('https.md', import.meta.url, [/^const (key|cert) = readFileSync\('(key|cert)\.pem'\)$/])
  })
})

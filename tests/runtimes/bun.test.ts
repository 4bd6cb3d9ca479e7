import { describe, expect, it } from 'vitest'
import { clientScenario } from './client-scenario'
import { fixture, runtime } from './runtimes'
import { serverScenario } from './server-scenario'

/**
 * Bun 1, installed by scripts/ensure-runtimes.sh. The fixtures import the
 * packages by name, resolved from the repository's node_modules.
 */

describe('Bun', () => {
  it('runs the client on its global WebSocket: typed calls, a resumed subscription, reconnect after a server restart', async () => {
    const bun = runtime('bun')
    expect(bun.version.split('.')[0]).toBe('1')
    await clientScenario(bun.path, [fixture('client.mjs')], { global: true, passed: false })
  })

  it('runs the server through its Node compatibility (node:http, ws): calls, a subscription, keep-alive pings, maxPayload, a clean close', async () => {
    await serverScenario(runtime('bun').path, [fixture('server.mjs')])
  })
})

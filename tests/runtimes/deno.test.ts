import { describe, expect, it } from 'vitest'
import { clientScenario } from './client-scenario'
import { denoRun, fixture, runtime } from './runtimes'
import { serverScenario } from './server-scenario'

/**
 * Deno 2, installed by scripts/ensure-runtimes.sh. The fixtures import the
 * packages by name: Deno finds the repository's package.json and resolves
 * them from node_modules (its `manual` node_modules mode), as in any npm
 * project. Permissions: the loopback, and the environment variables the
 * scripts and `ws` read (`denoRun`).
 */

describe('Deno', () => {
  it('runs the client on its global WebSocket: typed calls, a resumed subscription, reconnect after a server restart', async () => {
    const deno = runtime('deno')
    expect(deno.version.split('.')[0]).toBe('2')
    await clientScenario(deno.path, [...denoRun, fixture('client.mjs')], { global: true, passed: false })
  })

  it('runs the server through its Node compatibility (node:http, ws): calls, a subscription, keep-alive pings, maxPayload, a clean close', async () => {
    await serverScenario(runtime('deno').path, [...denoRun, fixture('server.mjs')])
  })
})

import { describe, expect, it } from 'vitest'
import { clientScenario } from './client-scenario'
import { fixture, runtime, type RuntimeName } from './runtimes'
import { serverScenario } from './server-scenario'

/**
 * The built client (`@wirecall/client` from packages/client/dist, imported
 * by name as a user's ESM script does) in a child Node of each major
 * version, against a server in this process. Node 20 is the Node running
 * the tests, with the `ws` package; Node 22, 24 and 26 are installed by
 * scripts/ensure-runtimes.sh and use their global WebSocket.
 *
 * And the built server (`@wirecall/server`, on `ws` and node:http) in Node
 * 22, 24 and 26, called by a client of this process; Node 20 runs the
 * server in every other test.
 */

describe('the client in Node', () => {
  it('Node 20 (this process), with ws: typed calls, a resumed subscription, reconnect after a server restart', async () => {
    expect(process.versions.node.split('.')[0], 'the tests run on Node 20, the oldest Node the packages support').toBe('20')
    await clientScenario(process.execPath, [fixture('client-ws.mjs')], { global: false, passed: true })
  })

  for (const name of ['node22', 'node24', 'node26'] as const satisfies readonly RuntimeName[]) {
    const major = name.slice(4)
    it(`Node ${major}, with its global WebSocket: typed calls, a resumed subscription, reconnect after a server restart`, async () => {
      const node = runtime(name)
      expect(node.version.split('.')[0]).toBe(major)
      await clientScenario(node.path, [fixture('client.mjs')], { global: true, passed: false })
    })
  }
})

describe('the server in Node', () => {
  for (const name of ['node22', 'node24', 'node26'] as const satisfies readonly RuntimeName[]) {
    it(`Node ${name.slice(4)}: calls, a subscription, keep-alive pings, maxPayload, a clean close`, async () => {
      await serverScenario(runtime(name).path, [fixture('server.mjs')])
    })
  }
})

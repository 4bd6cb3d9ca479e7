/**
 * What one idle connection holds on a server's heap, by constructor: a
 * tool for when the idle case's heap slope needs explaining (not part of
 * the bench run). Serves an implementation in this process, opens
 * connections from a client process (idle/client.ts), writes a heap
 * snapshot before and after, and prints the biggest growths per connection.
 *
 *   cd bench && TSX_TSCONFIG_PATH=tsconfig.json node --import tsx --expose-gc src/scale/idle/heap-snapshot.ts wirecall 5000
 */
import { readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeHeapSnapshot } from 'node:v8'
import { killAllChildren } from '../../child'
import { IMPLS, type ImplName } from '../../contract'
import { loadImpl } from '../../impls/index'
import { ClientFleet } from '../client-fleet'
import { STEP_TIMEOUT_MS } from '../processes'
import type { FromIdleClient, ToIdleClient } from './messages'

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }
  nodes: number[]
  strings: string[]
}

/** Self size and count per "type name" (a constructor, `(closure) name`, `(string)`...). */
function tally(file: string): Map<string, { bytes: number; count: number }> {
  const heap = JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshot
  const fields = heap.snapshot.meta.node_fields
  const types = heap.snapshot.meta.node_types[0]
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field)) as [number, number, number]
  const byKey = new Map<string, { bytes: number; count: number }>()
  for (let i = 0; i < heap.nodes.length; i += fields.length) {
    const type = types[heap.nodes[i + typeAt]!]!
    const name = type === 'object' || type === 'closure' ? heap.strings[heap.nodes[i + nameAt]!]! : ''
    const key = type === 'object' ? name : `(${type})${name === '' ? '' : ` ${name}`}`
    const entry = byKey.get(key) ?? { bytes: 0, count: 0 }
    entry.bytes += heap.nodes[i + sizeAt]!
    entry.count++
    byKey.set(key, entry)
  }
  return byKey
}

function snapshot(label: string): string {
  globalThis.gc?.()
  globalThis.gc?.()
  return writeHeapSnapshot(join(tmpdir(), `idle-${label}-${process.pid}.heapsnapshot`))
}

async function main(): Promise<void> {
  const [implName = 'wirecall', countText = '5000'] = process.argv.slice(2)
  if (!IMPLS.includes(implName as ImplName)) throw new Error(`unknown implementation ${implName}`)
  const connections = Number(countText)
  const server = await (await loadImpl(implName as ImplName)).serve({ maxConnections: 100_000 })
  const fleet = new ClientFleet<ToIdleClient, FromIdleClient>(`heap ${implName}`, fileURLToPath(new URL('./client.ts', import.meta.url)), 1, (address) => [implName, address])
  const [client] = fleet.children
  try {
    await client!.next('ready', STEP_TIMEOUT_MS)
    await client!.request({ type: 'open', port: server.port, count: 20 }, 'opened', STEP_TIMEOUT_MS)
    await client!.request({ type: 'close' }, 'closed', STEP_TIMEOUT_MS)
    const before = snapshot('before')
    await client!.request({ type: 'open', port: server.port, count: connections }, 'opened', STEP_TIMEOUT_MS * 5)
    const after = snapshot('after')
    const [a, b] = [tally(before), tally(after)]
    rmSync(before)
    rmSync(after)
    const growth = [...b].map(([key, { bytes, count }]) => ({ key, bytes: bytes - (a.get(key)?.bytes ?? 0), count: count - (a.get(key)?.count ?? 0) }))
    growth.sort((x, y) => y.bytes - x.bytes)
    const total = growth.reduce((sum, g) => sum + g.bytes, 0)
    console.log(`${implName}: ${connections} idle connections, heap self size +${(total / connections).toFixed(0)} bytes per connection; the biggest growths:`)
    for (const g of growth.slice(0, 25)) {
      console.log(`${(g.bytes / connections).toFixed(1).padStart(8)} B  ${(g.count / connections).toFixed(2).padStart(6)} per conn  ${g.key}`)
    }
    await client!.request({ type: 'close' }, 'closed', STEP_TIMEOUT_MS * 5)
    await fleet.exit({ type: 'exit' })
  } finally {
    fleet.kill()
    await server.close()
  }
}

main()
  .catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
  .finally(killAllChildren)

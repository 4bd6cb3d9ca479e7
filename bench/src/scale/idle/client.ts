/**
 * Entry of a client process of the idle case: `client.ts <impl>
 * <sourceAddress>`. Loads its library, then opens, checks and closes
 * connections to the server as the orchestrator says, every one bound to
 * its source address.
 */
import { closeAll, connectMany } from '../../cases/connections'
import { Mismatch, preview } from '../../cases/verify'
import { echoInput, IMPLS, isEcho, type BenchConnection, type Impl, type ImplName } from '../../contract'
import { loadImpl } from '../../impls/index'
import { raiseOpenFiles } from '../../proc-status'
import { runChild, tell } from '../child-ipc'
import { CONNECT_CONCURRENCY } from '../fleet'
import type { FromIdleClient, ToIdleClient } from './messages'

const [implName, localAddress = '127.0.0.1'] = process.argv.slice(2)
const reply = (message: FromIdleClient) => tell(message)
let impl: Impl
let connections: BenchConnection[] = []

/** One echo on each connection, `CONNECT_CONCURRENCY` at a time, each answer checked. */
async function checkAll(): Promise<number> {
  for (let i = 0; i < connections.length; i += CONNECT_CONCURRENCY) {
    await Promise.all(
      connections.slice(i, i + CONNECT_CONCURRENCY).map(async (connection, j) => {
        const id = i + j
        const output = await connection.echo(echoInput(id))
        if (!isEcho(output, id)) throw new Mismatch(`idle/${implName}: connection ${id} from ${localAddress} echoed ${preview(output)}`)
      }),
    )
  }
  return connections.length
}

runChild<ToIdleClient>(
  async () => {
    if (!IMPLS.includes(implName as ImplName)) throw new Error(`unknown implementation ${String(implName)}`)
    impl = await loadImpl(implName as ImplName)
    // Each process holds up to 5,000 sockets; the attempt costs nothing where the limit is already high enough.
    await reply({ type: 'ready', openFiles: raiseOpenFiles(65_536) })
  },
  async (message) => {
    switch (message.type) {
      case 'open':
        connections.push(...(await connectMany(impl, message.port, message.count, CONNECT_CONCURRENCY, { localAddress })))
        return reply({ type: 'opened', open: connections.length })
      case 'check':
        return reply({ type: 'checked', echoes: await checkAll() })
      case 'close':
        await closeAll(connections)
        connections = []
        return reply({ type: 'closed' })
      case 'exit':
        // Libraries may hold timers; the connections are closed.
        return process.exit(0)
    }
  },
)

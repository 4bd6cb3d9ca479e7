// @vitest-environment happy-dom
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { useQuery, type QueryFunction, type QueryFunctionContext } from '@tanstack/react-query'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createQueryUtils } from '@wirecall/tanstack-query'
import { bundle } from '../../browser/bundle'
import { freePort, killHard as kill, startChildServer } from '../../helpers/child-server'
import { connectClient, sleep, waitUntil } from '../../helpers/harness'
import { renderWith, testQueryClient } from './react-harness'
import type { TickRouter } from './fixtures/tick-server'

/**
 * A live query across a real crash: the server runs in a child process,
 * which the test kills with SIGKILL (no close frame, no restart notice) and
 * starts again on the same port. TanStack must see nothing of it.
 */

const TICK_MS = 40
/** This folder. (Not `new URL(..., import.meta.url)`: in a DOM test environment Vite rewrites that to an http: URL.) */
const here = dirname(fileURLToPath(import.meta.url))

/** fixtures/tick-server.ts bundled for Node into a temporary file, removed after the test. */
async function serverScript(): Promise<string> {
  const { code } = await bundle(join(here, 'fixtures/tick-server.ts'), { platform: 'node' })
  const dir = mkdtempSync(join(tmpdir(), 'wirecall-tq-restart-'))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'tick-server.mjs')
  // `ws` is CommonJS and requires Node's modules: give the ESM bundle a `require` to do it with.
  writeFileSync(file, `import { createRequire } from 'node:module'\nconst require = createRequire(import.meta.url)\n${code}`)
  return file
}

/** Starts the server process on `port`; resolves once it serves. Killed after the test if still running. */
function startServerProcess(script: string, port: number): Promise<ChildProcess> {
  return startChildServer({ args: [script, String(port), String(TICK_MS)], readyText: `listening ${port}`, name: 'tick', timeoutMs: 10_000 })
}

describe('a live query across a server kill -9 and restart', () => {
  it('data is never undefined after the first event, status stays success, the ids are contiguous, and the query function ran once', async () => {
    const script = await serverScript()
    const port = await freePort()
    let child = await startServerProcess(script, port)
    const api = connectClient<TickRouter>(`ws://127.0.0.1:${port}/rpc`, { reconnect: { minDelayMs: 50, maxDelayMs: 200 } })
    const wc = createQueryUtils(api, { prefix: 'wc' })
    const queryClient = testQueryClient()

    const live = wc.ticks.liveOptions()
    let runs = 0
    const queryFn = live.queryFn as QueryFunction<{ n: number }, typeof live.queryKey>
    const options = { ...live, queryFn: (context: QueryFunctionContext<typeof live.queryKey>) => (runs++, queryFn(context)) }
    const seen: number[] = [] // every value the cache entry took
    queryClient.getQueryCache().subscribe((event) => {
      if (event.type === 'updated' && event.action.type === 'success') seen.push((event.query.state.data as { n: number }).n)
    })
    const renders: { status: string; n: number | undefined; error: unknown }[] = []
    const states: string[] = []
    api.$connection.on('state', (state) => states.push(state))
    function Ticks() {
      const query = useQuery(options)
      renders.push({ status: query.status, n: query.data?.n, error: query.error })
      return <p>{query.data?.n}</p>
    }
    renderWith(queryClient, <Ticks />)
    await waitUntil(() => seen.length >= 3, 'the first ticks', 5_000)

    await kill(child)
    await waitUntil(() => api.$connection.state === 'reconnecting', 'the client to notice the crash', 5_000)
    const down = seen.at(-1)!
    await sleep(TICK_MS * 5) // ticks fall due while no server is up
    child = await startServerProcess(script, port)
    const back = Math.floor(Date.now() / TICK_MS)
    await waitUntil(() => api.$connection.state === 'open' && (seen.at(-1) ?? 0) >= back + 3, 'ticks after the restart', 10_000)

    expect(states).toContain('reconnecting')
    expect(seen.at(-1)! - down).toBeGreaterThan(5) // the ticks missed while down were replayed, not skipped
    expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => seen[0]! + i)) // contiguous: no gap, no duplicate
    const first = renders.findIndex((r) => r.n !== undefined)
    expect(first).toBeGreaterThanOrEqual(0)
    for (const render of renders.slice(first)) expect(render).toMatchObject({ status: 'success', error: null, n: expect.any(Number) })
    expect(runs).toBe(1)
    const state = queryClient.getQueryState(live.queryKey)!
    expect(state).toMatchObject({ status: 'success', fetchStatus: 'fetching', fetchFailureCount: 0, dataUpdateCount: seen.length })
  })
})

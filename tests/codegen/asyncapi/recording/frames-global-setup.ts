import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { checkFrames } from './check-frames'
import { FRAMES_DIR_KEY, FRAMES_ROOT, readFrameLogs } from './frame-log'

/*
 * vitest global setup: gives this run its own directory for frame logs
 * (concurrent runs in one tree do not mix), and after every test file has
 * finished (each worker appends its frames in an afterAll, before its file
 * is reported done) checks every recorded frame against the AsyncAPI
 * document's envelopes. A teardown cannot fail a test, so a frame that
 * does not validate sets the exit code and prints why. The counts are
 * printed, and kept in `summary.json` beside the logs.
 * WIRECALL_RECORD_FRAMES=0 turns recording off (to measure its cost).
 */

/** Run directories older than this are left over from killed runs: removed. */
const STALE_MS = 6 * 60 * 60 * 1000

export default function setup(project: TestProject): () => void {
  if (process.env.WIRECALL_RECORD_FRAMES === '0') {
    project.provide(FRAMES_DIR_KEY, undefined)
    return () => {}
  }
  mkdirSync(FRAMES_ROOT, { recursive: true })
  for (const name of readdirSync(FRAMES_ROOT)) {
    const path = join(FRAMES_ROOT, name)
    if (name.startsWith('run-') && Date.now() - statSync(path).mtimeMs > STALE_MS) rmSync(path, { recursive: true, force: true })
  }
  const dir = join(FRAMES_ROOT, `run-${process.pid}-${Date.now()}`)
  mkdirSync(dir)
  project.provide(FRAMES_DIR_KEY, dir)

  return () => {
    try {
      report(dir)
    } catch (error) {
      // A checker that cannot run has checked nothing: that fails the run too.
      console.error('\nthe recorded-frames check failed to run:', error)
      process.exitCode = 1
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

function report(dir: string): void {
  const { frames, unreadable } = readFrameLogs(dir)
  if (frames.length === 0) return // no integration file ran
  const result = checkFrames(frames)
  const summary = {
    recorded: frames.length,
    checked: result.checked,
    messages: result.messages,
    refusedByParser: result.refused,
    unreadableLines: unreadable,
    failures: result.failures.length,
    offTableErrorCodes: result.offTableCodes.length,
  }
  const examples = { failures: result.failures.slice(0, 20), offTableErrorCodes: result.offTableCodes.slice(0, 20) }
  writeFileSync(join(FRAMES_ROOT, 'summary.json'), `${JSON.stringify({ ...summary, examples }, null, 2)}\n`)
  console.log(
    `\nrecorded frames (AsyncAPI envelopes): ${result.checked} frames (${result.messages} messages) checked, ${result.failures.length} failed; ` +
      `${result.refused} refused by the parser (not protocol frames) and ${result.offTableCodes.length} error messages with a code outside the table (hand-written peers) counted apart`,
  )
  if (result.failures.length > 0) {
    console.error(`\n${result.failures.length} recorded frames do not validate against the AsyncAPI document:\n${result.failures.slice(0, 20).join('\n')}`)
    process.exitCode = 1
  }
}

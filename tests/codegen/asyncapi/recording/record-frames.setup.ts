import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { threadId } from 'node:worker_threads'
import { afterAll, beforeAll, expect, inject } from 'vitest'
import { RECORDED_FILES } from './frame-log'
import { FrameRecorder, listen } from './frame-recorder'

/*
 * vitest setup file (every test file): while a file of the integration suite
 * runs, records the text frames `ws` sends in both directions and appends
 * them, after the file, to this worker's log in the directory the global
 * setup provides (frames-global-setup.ts checks them all after the run).
 * Other files, and runs without that directory, record nothing.
 */

const dir = inject('wirecallFramesDir')
let stop: (() => void) | undefined
let recorder: FrameRecorder | undefined

beforeAll(() => {
  const file = expect.getState().testPath ?? ''
  if (dir === undefined || !RECORDED_FILES.test(file)) return
  recorder = (globalThis as { __wirecallFrameRecorder?: FrameRecorder }).__wirecallFrameRecorder ??= new FrameRecorder()
  stop = listen(recorder)
})

afterAll(() => {
  stop?.()
  if (dir === undefined || recorder === undefined) return
  const frames = recorder.take()
  if (frames.length === 0) return
  const lines = frames.map(({ sender, text }) => `${JSON.stringify({ d: sender, f: text })}\n`).join('')
  appendFileSync(join(dir, `frames-${process.pid}-${threadId}.ndjson`), lines)
})

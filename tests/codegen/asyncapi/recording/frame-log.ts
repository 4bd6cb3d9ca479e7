import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/*
 * The files the frame recorder writes: one per worker process, one JSON line
 * per distinct text frame, `{"d":"client"|"server","f":"<frame>"}`, `d`
 * being the side that sent it (`ws` marks the sockets of its server).
 */

/** Which side sent a frame. */
export type Sender = 'client' | 'server'

/** One recorded text frame. */
export interface RecordedFrame {
  readonly sender: Sender
  readonly text: string
}

/** What the vitest global setup provides to workers: where to write, or nothing when recording is off. */
export const FRAMES_DIR_KEY = 'wirecallFramesDir'

declare module 'vitest' {
  interface ProvidedContext {
    wirecallFramesDir: string | undefined
  }
}

/** The folder under which each `vitest` run gets its own directory of frame logs. */
// Not `new URL(path, import.meta.url)`: Vite rewrites that pattern to an http: URL in DOM test environments.
export const FRAMES_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../../../node_modules/.cache/wirecall-frames')

/** Test files whose frames are recorded: the integration suite. */
export const RECORDED_FILES = /[/\\]tests[/\\]integration[/\\]/

/** Every distinct frame of the logs in `dir` (duplicates across workers dropped), and the count of lines that were not a frame. */
export function readFrameLogs(dir: string): { frames: RecordedFrame[]; unreadable: number } {
  const seen = new Set<string>()
  const frames: RecordedFrame[] = []
  let unreadable = 0
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.ndjson')).sort()) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (line === '') continue
      let entry: { d?: unknown; f?: unknown }
      try {
        entry = JSON.parse(line) as { d?: unknown; f?: unknown }
      } catch {
        unreadable++ // a worker killed mid-write leaves half a line
        continue
      }
      if ((entry.d !== 'client' && entry.d !== 'server') || typeof entry.f !== 'string') {
        unreadable++
        continue
      }
      const key = `${entry.d}\n${entry.f}`
      if (seen.has(key)) continue
      seen.add(key)
      frames.push({ sender: entry.d, text: entry.f })
    }
  }
  return { frames, unreadable }
}

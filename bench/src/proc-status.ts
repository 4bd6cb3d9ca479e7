/**
 * What Linux's /proc tells of this process that `process.memoryUsage()`
 * does not: its open-file limit, which bounds how many sockets a scale case
 * can hold (with an attempt to raise it), and its peak RSS (VmHWM), which
 * catches a spike between two samples.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

/** `RLIMIT_NOFILE`; `unlimited` as /proc writes it. */
export interface OpenFilesLimit {
  soft: number | 'unlimited'
  hard: number | 'unlimited'
}

/** A process's limits and peak memory, as a server process reports them (`status`). */
export interface ProcessStatus {
  pid: number
  openFiles: OpenFilesLimit
  /** VmHWM: the most RSS the process has had since it started, bytes. */
  peakRss: number
  /** VmRSS now, bytes (no gc first: a sample, not a settled figure). */
  rss: number
}

const number = (text: string | undefined): number | 'unlimited' => (text === 'unlimited' ? 'unlimited' : Number(text))

/** This process's open-file limit. */
export function openFilesLimit(): OpenFilesLimit {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((candidate) => candidate.startsWith('Max open files'))
  const [soft, hard] = (line ?? '').slice('Max open files'.length).trim().split(/\s+/)
  return { soft: number(soft), hard: number(hard) }
}

/**
 * Tries to raise this process's open-file limit to `target` with prlimit(1)
 * (Node already lifts the soft limit to the hard one at start). Raising the
 * hard limit needs CAP_SYS_RESOURCE, which a container often lacks: then the
 * limit stays as it was, and the caller reports what it got.
 */
export function raiseOpenFiles(target: number): OpenFilesLimit {
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${target}:${target}`], { stdio: 'ignore', timeout: 5_000 })
  } catch {
    // Not permitted (or no prlimit): the limit is what it is.
  }
  return openFilesLimit()
}

/** A field of /proc/self/status in kB (VmHWM, VmRSS), as bytes. */
function statusBytes(field: string): number {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((candidate) => candidate.startsWith(`${field}:`))
  if (line === undefined) throw new Error(`/proc/self/status has no ${field}`)
  return Number.parseInt(line.slice(field.length + 1), 10) * 1024
}

export function processStatus(): ProcessStatus {
  return { pid: process.pid, openFiles: openFilesLimit(), peakRss: statusBytes('VmHWM'), rss: statusBytes('VmRSS') }
}

/** "20,000 (hard 20,000)": a limit for a figure's note. */
export function describeOpenFiles(limit: OpenFilesLimit): string {
  const text = (value: number | 'unlimited') => (value === 'unlimited' ? value : value.toLocaleString('en-US'))
  return limit.soft === limit.hard ? text(limit.soft) : `${text(limit.soft)} (hard ${text(limit.hard)})`
}

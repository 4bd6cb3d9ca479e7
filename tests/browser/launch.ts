import { execFileSync } from 'node:child_process'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, onTestFinished } from 'vitest'

export { bundleForBrowser } from './bundle'
export { modulePage, serveStatic } from './serve'

/**
 * Real Chromium for the browser tests: Debian's `chromium` (installed by
 * scripts/ensure-chromium.sh, never a downloaded browser build), driven by
 * playwright-core.
 */

/** The flags every launch uses: headless, no sandbox (CI runs as root), nothing that dials out on its own. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking']

/** Path of Debian's chromium (`command -v chromium`); throws a clear error when it is not installed. */
export function chromiumPath(): string {
  try {
    const path = execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim()
    if (path !== '') return path
  } catch {
    // Not found: `command -v` exits non-zero.
  }
  throw new Error("chromium is not installed (`command -v chromium` found nothing): run 'bash scripts/ensure-chromium.sh'")
}

/** Launches Debian's chromium with {@link CHROMIUM_ARGS}. The caller closes it (see {@link useChromium}). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS })
}

/**
 * One browser for the whole test file: launched before the first test and
 * closed after the last. Call at the top level of a file (or a describe);
 * the returned function gives the browser inside tests.
 */
export function useChromium(): () => Browser {
  let browser: Browser | undefined
  beforeAll(async () => {
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
  })
  return () => {
    if (browser === undefined) throw new Error('useChromium(): the browser is not launched yet (use it inside a test)')
    return browser
  }
}

/** A page in its own browser context, with what it reported. */
export interface OpenedPage {
  context: BrowserContext
  page: Page
  /** Uncaught errors (`pageerror`) and `console.error` messages of the page and its workers, in order. */
  problems: string[]
  /** URL of every WebSocket the page (or a worker of it) opened, in order. */
  sockets: string[]
}

/**
 * Opens `url` in a fresh browser context (so `setOffline` and the like touch
 * this test only), recording errors and sockets; the context is closed after
 * the test. Resolves once the page has loaded.
 */
export async function openPage(browser: Browser, url: string): Promise<OpenedPage> {
  const context = await browser.newContext()
  onTestFinished(() => context.close())
  const page = await context.newPage()
  const opened: OpenedPage = { context, page, problems: [], sockets: [] }
  page.on('pageerror', (error) => opened.problems.push(`pageerror: ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error') opened.problems.push(`console.error: ${message.text()}`)
  })
  page.on('websocket', (socket) => opened.sockets.push(socket.url()))
  await page.goto(url)
  return opened
}

/**
 * True for the message Chromium logs by itself when a WebSocket cannot
 * connect (the server is down on purpose during a restart). Not an error of
 * the page's code; tests that take the server down filter these out, and
 * count them.
 */
export function isFailedDial(problem: string): boolean {
  return /^console\.error: WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/rpc' failed/.test(problem)
}

import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import { freePort, killHard as kill, startChildServer } from '../../../tests/helpers/child-server'
import { isFailedDial, openPage, useChromium, type OpenedPage } from '../../../tests/browser/launch'

/**
 * The React page of examples/live-react in real Chromium (Debian's, driven
 * by playwright-core), across a server killed with SIGKILL and started
 * again on the same port: the badge shows it, the messages stay on screen
 * the whole time (no refetch, no flicker: the list never shrinks), a
 * message written while the server is down is posted once, and every
 * message is on screen once, in order.
 */

const exampleDir = fileURLToPath(new URL('..', import.meta.url))
const browser = useChromium()

/** Runs `src/main.ts` in a child process; resolves once it serves. */
function startServerProcess(port: number, dataDir: string): Promise<ChildProcess> {
  return startChildServer({
    args: ['--import', 'tsx', 'src/main.ts'],
    cwd: exampleDir,
    env: { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir },
    readyText: 'live-react: open',
    name: 'live-react',
  })
}

declare global {
  interface Window {
    /** How often the message list got shorter, and the smallest it was after the first message (see {@link openChat}). */
    shrinks: number
    /** Every `data-status` the list showed, in order, without repeats. */
    listStatuses: string[]
  }
}

/** Opens the page as `name`, with a watcher on the message list that counts every time it gets shorter. */
async function openChat(url: string, name: string): Promise<OpenedPage> {
  const chat = await openPage(browser(), 'about:blank')
  await chat.page.addInitScript(() => {
    window.shrinks = 0
    window.listStatuses = []
    let last = 0
    new MutationObserver(() => {
      const list = document.getElementById('messages')
      const count = list?.querySelectorAll('li[data-id]').length ?? 0
      if (count < last) window.shrinks++
      last = count
      const status = list?.dataset.status ?? 'none'
      if (window.listStatuses.at(-1) !== status) window.listStatuses.push(status)
    }).observe(document, { subtree: true, childList: true, attributes: true })
  })
  await chat.page.goto(`${url}?name=${name}`)
  return chat
}

const badge = (chat: OpenedPage) => chat.page.locator('#state')
const messages = (chat: OpenedPage) =>
  chat.page.$$eval('#messages li[data-id]', (items) =>
    items.map((item) => ({ id: Number((item as HTMLElement).dataset.id), from: (item as HTMLElement).dataset.from, text: item.querySelector('.text')!.textContent })),
  )

async function send(chat: OpenedPage, text: string): Promise<void> {
  await chat.page.fill('#text', text)
  await chat.page.press('#text', 'Enter')
}

/** `expect.poll` with room for reconnects (backoff up to 2 s) on a loaded machine. */
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 10_000, interval: 50 })

describe('examples/live-react in Chromium', () => {
  it('the React chat page survives a server kill -9 and restart: no flicker, no refetch, every message once, in order', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wirecall-live-react-browser-'))
    onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }))
    const port = await freePort()
    let server = await startServerProcess(port, dataDir)
    const url = `http://127.0.0.1:${port}/`

    const ada = await openChat(url, 'ada')
    const bob = await openChat(url, 'bob')
    for (const chat of [ada, bob]) {
      await poll(() => badge(chat).textContent()).toBe('open')
      await poll(() => chat.page.textContent('#online')).toBe('2 online')
    }
    await send(ada, 'Hi Bob, the server is about to be killed.')
    await send(bob, 'Go ahead.')
    for (const chat of [ada, bob]) await poll(async () => (await messages(chat)).length).toBe(2)
    await bob.page.fill('#text', 'typing')
    await poll(() => ada.page.textContent('#typing')).toBe('bob is typing…')
    await bob.page.fill('#text', '')

    await kill(server)
    for (const chat of [ada, bob]) await poll(() => badge(chat).textContent()).toBe('reconnecting')
    // Still on screen while the server is away: the query kept its data.
    for (const chat of [ada, bob]) expect(await messages(chat)).toHaveLength(2)
    await send(ada, 'Written while the server was down.')
    await poll(() => ada.page.locator('#messages li.sending').count()).toBe(1) // queued, shown as sending

    server = await startServerProcess(port, dataDir)
    for (const chat of [ada, bob]) {
      await poll(() => badge(chat).textContent()).toBe('open')
      await poll(async () => (await messages(chat)).length).toBe(3)
      await poll(() => chat.page.textContent('#online')).toBe('2 online')
    }
    await poll(() => ada.page.locator('#messages li.sending').count()).toBe(0)
    await send(bob, 'Got it, once.')

    const expected = [
      { id: 1, from: 'ada', text: 'Hi Bob, the server is about to be killed.' },
      { id: 2, from: 'bob', text: 'Go ahead.' },
      { id: 3, from: 'ada', text: 'Written while the server was down.' },
      { id: 4, from: 'bob', text: 'Got it, once.' },
    ]
    for (const chat of [ada, bob]) {
      await poll(() => messages(chat)).toEqual(expected)
      expect(await chat.page.evaluate(() => window.shrinks)).toBe(0) // never emptied or cut: no refetch, no flicker
      const statuses = await chat.page.evaluate(() => window.listStatuses)
      expect(statuses.slice(statuses.indexOf('success'))).toEqual(['success']) // once there, never pending or error again
      expect(await chat.page.textContent('#typing')).toBe('')
      expect(chat.problems.filter((problem) => !isFailedDial(problem))).toEqual([])
    }
  }, 45_000)
})

import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import { freePort, killHard as kill, startChildServer } from '../../../tests/helpers/child-server'
import { sleep } from '../../../tests/helpers/harness'
import { isFailedDial, openPage, useChromium, type OpenedPage } from '../../../tests/browser/launch'
import { startRedis } from '../../../tests/helpers/redis-server'
import { startRoundRobinProxy } from '../src/round-robin-proxy'
import { startChat } from '../src/server'

/**
 * The chat in real Chromium: two pages (two browser contexts, so each can go
 * offline alone) talk through a server that is killed with SIGKILL and
 * started again, and through one page losing its network. Every message
 * must reach both pages once, in order; the test checks the DOM and the
 * frames on the wire. It also takes the screenshot in docs/chat.png.
 */

const exampleDir = fileURLToPath(new URL('..', import.meta.url))
const screenshotPath = fileURLToPath(new URL('../../../docs/chat.png', import.meta.url))
const browser = useChromium()

/** Runs `src/main.ts` in a child process; resolves once it serves. With `redisUrl`, it is one of several sharing that Redis. */
function startServerProcess(port: number, dataDir: string, redisUrl?: string): Promise<ChildProcess> {
  return startChildServer({
    args: ['--import', 'tsx', 'src/main.ts'],
    cwd: exampleDir,
    env: { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, ...(redisUrl === undefined ? {} : { REDIS_URL: redisUrl }) },
    readyText: 'chat: open',
    name: 'chat',
  })
}

declare global {
  interface Window {
    /** Ids of the messages that feed frames brought to the page, socket after socket, in order (see {@link openChat}). */
    feedIds: number[]
    /** What the room session brought, in order: `m<id>` for a message, `t:<user>:<typing>` for a typing event. */
    sessionEvents: string[]
  }
}

/**
 * Opens the chat as `name` in a browser context of its own. Every
 * WebSocket the page makes records the events of the room session's
 * frames it delivers to the page (message ids, typing events), before the
 * client sees them: that is the wire as the page gets it. (Not Playwright's `framereceived`: Chromium's offline
 * emulation holds frames on the socket the client gives up on, never hands
 * them to the page, and reports them to DevTools when that socket closes.)
 */
async function openChat(url: string, name: string): Promise<OpenedPage> {
  const chat = await openPage(browser(), 'about:blank')
  await chat.page.addInitScript(() => {
    window.feedIds = []
    window.sessionEvents = []
    type SessionData = { kind?: string; message?: { id: number }; user?: string; typing?: boolean }
    window.WebSocket = class extends window.WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols)
        // Added before the client's own listener, so it sees every frame first.
        this.addEventListener('message', (event: MessageEvent) => {
          const parsed = JSON.parse(String(event.data)) as unknown
          for (const frame of (Array.isArray(parsed) ? parsed : [parsed]) as { type?: string; data?: SessionData }[]) {
            // Session events are the only `data` frames with a `kind` (presence carries `users`).
            if (frame.type !== 'data') continue
            if (frame.data?.kind === 'message') {
              window.feedIds.push(frame.data.message!.id)
              window.sessionEvents.push(`m${frame.data.message!.id}`)
            } else if (frame.data?.kind === 'typing') window.sessionEvents.push(`t:${frame.data.user}:${frame.data.typing}`)
          }
        })
      }
    }
  })
  await chat.page.setViewportSize({ width: 1024, height: 640 })
  await chat.page.goto(`${url}?name=${name}`)
  return chat
}

const badge = (chat: OpenedPage) => chat.page.locator('#state')
const messages = (chat: OpenedPage) =>
  chat.page.$$eval('#messages li[data-id]', (items) =>
    items.map((item) => ({ id: Number((item as HTMLElement).dataset.id), from: (item as HTMLElement).dataset.from, text: item.querySelector('.text')!.textContent })),
  )
const counters = (chat: OpenedPage) => chat.page.$eval('#messages', (list) => ({ ...(list as HTMLElement).dataset }))

async function send(chat: OpenedPage, text: string): Promise<void> {
  await chat.page.fill('#text', text)
  await chat.page.press('#text', 'Enter')
}

/** Stops a chat process the way Ctrl-C does (a graceful close in restart mode), and waits until it is gone; SIGKILL after 10 s. */
async function stopGracefully(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}

/** The session events a page got, with repeats in a row merged: a typing indicator renewed while someone types counts once. */
const sessionEvents = async (chat: OpenedPage) => (await chat.page.evaluate(() => window.sessionEvents)).filter((event, i, all) => event !== all[i - 1])

/** Types `text` into the message box (which sends the typing indicator) and sends it. */
async function typeAndSend(chat: OpenedPage, text: string): Promise<void> {
  await chat.page.fill('#text', text)
  await chat.page.press('#text', 'Enter')
}

/** `expect.poll` with room for reconnects (the pages back off up to 3 s) on a loaded machine. */
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 10_000, interval: 50 })

/** Waits until the page shows `count` messages. */
async function expectMessageCount(chat: OpenedPage, count: number): Promise<void> {
  await poll(async () => (await messages(chat)).length).toBe(count)
}

/** Where a chat server runs for one test: a data directory (removed after it) and a free port, with the page's URL. */
async function chatServerPlace(): Promise<{ dataDir: string; port: number; url: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'wirecall-chat-browser-'))
  onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }))
  const port = await freePort()
  return { dataDir, port, url: `http://127.0.0.1:${port}/` }
}

/** Ada's and Bob's pages on `url`, both connected and each seeing the other online. */
async function adaAndBob(url: string): Promise<[OpenedPage, OpenedPage]> {
  const ada = await openChat(url, 'ada')
  const bob = await openChat(url, 'bob')
  for (const [chat, online] of [
    [ada, ['ada (you)', 'bob']],
    [bob, ['ada', 'bob (you)']],
  ] as const) {
    await poll(() => badge(chat).textContent()).toBe('open')
    await poll(() => chat.page.locator('#online li').allTextContents()).toEqual(online)
  }
  return [ada, bob]
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe('examples/chat in Chromium', () => {
  it('two pages chat through a server kill and a network drop: every message arrives once, in order', async () => {
    const { dataDir, port, url } = await chatServerPlace()
    let server = await startServerProcess(port, dataDir)

    const [ada, bob] = await adaAndBob(url)

    await send(ada, 'Hi Bob! Is the new build out?')
    await expectMessageCount(bob, 1)
    await send(bob, 'Deploying now: the server is about to restart.')
    await expectMessageCount(ada, 2)

    // The server dies without a word (SIGKILL): both pages notice, and show it.
    await kill(server)
    for (const chat of [ada, bob]) await poll(() => badge(chat).textContent()).toBe('reconnecting')
    await send(ada, 'Written while the server was down: queued, then posted once.')
    await poll(() => ada.page.locator('#pending li').count()).toBe(1) // shown as "sending…"

    server = await startServerProcess(port, dataDir)
    for (const chat of [ada, bob]) {
      await poll(() => badge(chat).textContent()).toBe('open')
      await expectMessageCount(chat, 3)
    }
    await poll(() => ada.page.locator('#pending li').count()).toBe(0)

    // Bob loses his network alone; ada goes on writing.
    await bob.context.setOffline(true)
    await poll(() => badge(bob).textContent()).toBe('reconnecting')
    const whileAway = ['Bob went offline…', '…so these three wait for him on the server,', 'and reach him once, in order, when he is back.']
    for (const text of whileAway) await send(ada, text)
    await expectMessageCount(ada, 6)
    expect((await messages(bob)).length).toBe(3)

    await bob.context.setOffline(false)
    await poll(() => badge(bob).textContent()).toBe('open')
    await expectMessageCount(bob, 6)
    await send(bob, 'Back! Got all three, and nothing twice.')
    for (const chat of [ada, bob]) await expectMessageCount(chat, 7)

    const expected = [
      { id: 1, from: 'ada', text: 'Hi Bob! Is the new build out?' },
      { id: 2, from: 'bob', text: 'Deploying now: the server is about to restart.' },
      { id: 3, from: 'ada', text: 'Written while the server was down: queued, then posted once.' },
      ...whileAway.map((text, i) => ({ id: 4 + i, from: 'ada', text })),
      { id: 7, from: 'bob', text: 'Back! Got all three, and nothing twice.' },
    ]
    for (const chat of [ada, bob]) {
      expect(await messages(chat)).toEqual(expected)
      expect(await counters(chat)).toEqual({ duplicates: '0', gaps: '0' })
      // On the wire, not just in the DOM: each message came down the feed once, in order, over all the sockets the page opened.
      expect(await chat.page.evaluate(() => window.feedIds)).toEqual([1, 2, 3, 4, 5, 6, 7])
      expect(chat.problems.filter((problem) => !isFailedDial(problem))).toEqual([])
    }

    // The screenshot for the README: ada's page, with bob typing.
    await bob.page.fill('#text', 'See you at the') // fires `input`, which sends the indicator
    await poll(() => ada.page.locator('#typing').textContent()).toBe('bob is typing…')
    await ada.page.screenshot({ path: screenshotPath })

    // Bob closes his window: his presence ends with his connection.
    await bob.context.close()
    await poll(() => ada.page.locator('#online li').allTextContents()).toEqual(['ada (you)'])
    await poll(() => ada.page.locator('#typing').textContent()).toBe('')
  }, 45_000) // about 12 s; the rest is room for a loaded machine (two server start-ups, backoff)

  it('the room session: typing (volatile) and messages (tracked) arrive in the order sent, and resume across a server restart and a page away', async () => {
    const { dataDir, port, url } = await chatServerPlace()
    let server = await startServerProcess(port, dataDir)
    const [ada, bob] = await adaAndBob(url)

    // Ada types, bob sees it; her message takes the indicator down on his page.
    await ada.page.fill('#text', 'on')
    await poll(() => bob.page.locator('#typing').textContent()).toBe('ada is typing…')
    await ada.page.fill('#text', 'one')
    await ada.page.press('#text', 'Enter')
    await poll(() => bob.page.locator('#typing').textContent()).toBe('')
    // Then typing and messages back to back: each typing event goes out just before its message.
    for (const text of ['two', 'three', 'four', 'five']) await typeAndSend(ada, text)
    await expectMessageCount(bob, 5)
    expect(await sessionEvents(bob)).toEqual(['t:ada:true', 'm1', 't:ada:true', 'm2', 't:ada:true', 'm3', 't:ada:true', 'm4', 't:ada:true', 'm5'])

    // The server restarts (Ctrl-C: a graceful close in restart mode) while bob's session is open; ada writes meanwhile.
    await stopGracefully(server)
    for (const chat of [ada, bob]) await poll(() => badge(chat).textContent()).toBe('reconnecting')
    await typeAndSend(ada, 'six, written while the server was down') // no indicator while disconnected; the message waits in the outbox
    await poll(() => ada.page.locator('#pending li').count()).toBe(1)
    server = await startServerProcess(port, dataDir)
    for (const chat of [ada, bob]) {
      await poll(() => badge(chat).textContent()).toBe('open')
      await expectMessageCount(chat, 6)
    }
    await poll(() => ada.page.locator('#pending li').count()).toBe(0)
    await typeAndSend(ada, 'seven, after the restart')
    await expectMessageCount(bob, 7)

    // Bob goes away; ada writes two more; bob's session resumes from the last message he got.
    await bob.context.setOffline(true)
    await poll(() => badge(bob).textContent()).toBe('reconnecting')
    for (const text of ['eight, while bob is away', 'nine, while bob is away']) await typeAndSend(ada, text)
    await expectMessageCount(ada, 9)
    await bob.context.setOffline(false)
    await poll(() => badge(bob).textContent()).toBe('open')
    await expectMessageCount(bob, 9)
    await typeAndSend(ada, 'ten')
    for (const chat of [ada, bob]) await expectMessageCount(chat, 10)

    const texts = ['one', 'two', 'three', 'four', 'five', 'six, written while the server was down', 'seven, after the restart', 'eight, while bob is away', 'nine, while bob is away', 'ten']
    for (const chat of [ada, bob]) {
      expect(await messages(chat)).toEqual(texts.map((text, i) => ({ id: i + 1, from: 'ada', text })))
      expect(await counters(chat)).toEqual({ duplicates: '0', gaps: '0' })
      expect(await chat.page.evaluate(() => window.feedIds)).toEqual(range(1, 10))
      expect(chat.problems.filter((problem) => !isFailedDial(problem))).toEqual([])
    }
    // Typing is live only: none for six (written offline) and none replayed for eight and nine; each before its message otherwise.
    const typedThenSent = (ids: number[]) => ids.flatMap((id) => ['t:ada:true', `m${id}`])
    expect(await sessionEvents(bob)).toEqual([...typedThenSent([1, 2, 3, 4, 5]), 'm6', ...typedThenSent([7]), 'm8', 'm9', ...typedThenSent([10])])
  }, 60_000)

  it('a message written offline is still posted, once, when its page has moved to another room meanwhile', async () => {
    const app = await startChat({ port: 0, host: '127.0.0.1' })
    onTestFinished(() => app.close())
    const ada = await openChat(app.url, 'ada')
    const bob = await openChat(app.url, 'bob')
    for (const chat of [ada, bob]) await poll(() => badge(chat).textContent()).toBe('open')
    await send(ada, 'before')
    await expectMessageCount(bob, 1)

    await ada.context.setOffline(true)
    await poll(() => badge(ada).textContent()).toBe('reconnecting')
    await send(ada, 'written offline, then ada left the room')
    await poll(() => ada.page.locator('#pending li').count()).toBe(1)
    await ada.page.click('#rooms li:nth-child(2) button') // #random: the #general session stays open for the message
    await poll(() => ada.page.locator('#room-title').textContent()).toMatch(/^# random/)
    await ada.context.setOffline(false)
    await expectMessageCount(bob, 2)
    await sleep(200) // room for a duplicate to show up, if there were one
    expect((await messages(bob)).map((message) => message.text)).toEqual(['before', 'written offline, then ada left the room'])
    expect(await counters(bob)).toEqual({ duplicates: '0', gaps: '0' })
    await poll(() => ada.page.locator('#messages .empty').count()).toBe(1) // #random is empty
    await ada.page.click('#rooms li:nth-child(1) button')
    await poll(async () => (await messages(ada)).map((message) => message.id)).toEqual([1, 2])
  })

  it('on two processes behind a proxy, sharing one Redis: each process killed in turn, every message arrives once, in order', async () => {
    const redis = await startRedis()
    const dataDir = mkdtempSync(join(tmpdir(), 'wirecall-chat-browser-')) // unused with Redis; kept empty
    onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }))
    const ports = [await freePort(), await freePort()]
    const nodes = await Promise.all(ports.map((port) => startServerProcess(port, dataDir, redis.url)))
    const proxy = await startRoundRobinProxy({ upstreams: ports, port: 0 })
    onTestFinished(() => proxy.close())
    const url = `http://127.0.0.1:${proxy.port}/`

    const [ada, bob] = await adaAndBob(url)
    await send(ada, 'one')
    await send(bob, 'two')
    for (const chat of [ada, bob]) await expectMessageCount(chat, 2)

    // Kill A, write, bring A back; kill B, write: whichever process a page was on, it moved at least once.
    let count = 2
    for (const index of [0, 1]) {
      await kill(nodes[index]!)
      for (const text of [`while ${'AB'[index]} is down`, `still without ${'AB'[index]}`]) {
        await send(index === 0 ? bob : ada, text)
        count++
      }
      for (const chat of [ada, bob]) await expectMessageCount(chat, count)
      if (index === 0) nodes[0] = await startServerProcess(ports[0]!, dataDir, redis.url)
    }
    for (const chat of [ada, bob]) {
      await poll(() => badge(chat).textContent()).toBe('open')
      const shown = await messages(chat)
      expect(shown.map((message) => message.id)).toEqual([1, 2, 3, 4, 5, 6])
      expect(shown.map((message) => message.text)).toEqual(['one', 'two', 'while A is down', 'still without A', 'while B is down', 'still without B'])
      expect(await counters(chat)).toEqual({ duplicates: '0', gaps: '0' })
      expect(await chat.page.evaluate(() => window.feedIds)).toEqual([1, 2, 3, 4, 5, 6])
      expect(chat.problems.filter((problem) => !isFailedDial(problem))).toEqual([])
    }
    await poll(() => ada.page.locator('#online li').allTextContents()).toEqual(['ada (you)', 'bob'])
  }, 60_000)

  it('shows the sign-in form with the server\'s reason when it refuses a name', async () => {
    const app = await startChat({ port: 0, host: '127.0.0.1' })
    onTestFinished(() => app.close())
    const chat = await openPage(browser(), `${app.url}?name=${encodeURIComponent('<script>')}`)
    await poll(() => badge(chat).textContent()).toBe('closed')
    expect(await chat.page.isVisible('#signin')).toBe(true)
    expect(await chat.page.isVisible('#app')).toBe(false)
    expect(await chat.page.textContent('#signin-error')).toContain('choose a name')
    await chat.page.fill('#name', 'Grace Hopper')
    await chat.page.press('#name', 'Enter') // a plain GET form: the page comes back as ?name=Grace+Hopper
    await poll(() => badge(chat).textContent()).toBe('open')
    expect(await chat.page.textContent('#me')).toBe('signed in as Grace Hopper')
    await poll(() => chat.page.locator('#online li').allTextContents()).toEqual(['Grace Hopper (you)'])
  })

  it('reloads the room when the server cannot resume its feed (a server that lost its messages)', async () => {
    let app = await startChat({ port: 0, host: '127.0.0.1' }) // in memory only: a restart forgets everything
    onTestFinished(() => app.close())
    const port = Number(new URL(app.url).port)
    const chat = await openChat(app.url, 'ada')
    await poll(() => badge(chat).textContent()).toBe('open')
    await send(chat, 'one')
    await send(chat, 'two')
    await expectMessageCount(chat, 2)

    await app.close({ graceMs: 200, reconnectWindowMs: 100 })
    app = await startChat({ port, host: '127.0.0.1' })
    onTestFinished(() => app.close())
    // The page resumes from id 2, which the new server has never had: it gets a resync, and reloads the (empty) room.
    await poll(() => chat.page.locator('#messages .empty').count()).toBe(1)
    await send(chat, 'a fresh start')
    await poll(() => messages(chat)).toEqual([{ id: 1, from: 'ada', text: 'a fresh start' }])
    expect(await counters(chat)).toEqual({ duplicates: '0', gaps: '0' })
  })
})

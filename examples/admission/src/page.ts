import { createRpcClient, isRpcError, type RpcError, type ValidationErrorData } from '@wirecall/client'
import type { AppRouter } from './router'

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const MAX_ROWS = 20

const api = createRpcClient<AppRouter>({
  url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/rpc`,
})

const state = $<HTMLSpanElement>('state')
const showState = (s: string) => {
  state.textContent = s
  state.dataset.state = s
}
showState(api.$connection.state)
api.$connection.on('state', showState)

/** An error as one line; a validation error says what was wrong with the input. */
function describe(error: RpcError): string {
  const issue = error.code === 'BAD_REQUEST' ? (error.data as ValidationErrorData | undefined)?.issues[0] : undefined
  return `${error.code}: ${issue === undefined ? error.message : `${issue.path.join('.')}: ${issue.message}`}`
}

// The query. The form has `novalidate`, so that 0, 101 or 1.5 reach the server and its validation answers.
const verdict = $<HTMLOutputElement>('verdict')
$<HTMLFormElement>('check').addEventListener('submit', async (event) => {
  event.preventDefault()
  try {
    const { admitted, reason } = await api.check.query({ number: $<HTMLInputElement>('number').valueAsNumber })
    verdict.className = admitted ? 'admitted' : 'refused'
    verdict.textContent = `${admitted ? 'Admitted' : 'Not admitted'}: ${reason}.`
  } catch (error) {
    if (!isRpcError(error)) throw error
    verdict.className = 'error'
    verdict.textContent = describe(error)
  }
})

// The subscription: the server announces draws until Stop unsubscribes, which ends its generator.
const start = $<HTMLButtonElement>('start')
const stop = $<HTMLButtonElement>('stop')
const feed = $<HTMLElement>('feed')
const list = $<HTMLOListElement>('draws')
const tally = $<HTMLElement>('tally')
let sub: { unsubscribe(): void } | undefined
let draws = 0
let admittedCount = 0

function stopped(status: string): void {
  sub = undefined
  start.disabled = false
  stop.disabled = true
  feed.textContent = status
}

start.addEventListener('click', () => {
  start.disabled = true
  stop.disabled = false
  feed.textContent = 'starting'
  sub = api.announcements.subscribe(
    { everyMs: $<HTMLInputElement>('every').valueAsNumber },
    {
      onStarted: () => {
        feed.textContent = 'announcing'
      },
      onData: (result) => {
        draws++
        if (result.admitted) admittedCount++
        tally.textContent = `${admittedCount} of ${draws} admitted`
        const row = document.createElement('li')
        row.className = result.admitted ? 'admitted' : 'refused'
        row.textContent = `#${result.draw} ${result.at.toLocaleTimeString()}  ${result.number}: ${result.admitted ? 'admitted' : 'not admitted'} (${result.reason})`
        list.prepend(row)
        while (list.children.length > MAX_ROWS) list.lastElementChild!.remove()
      },
      onError: (error) => stopped(describe(error)),
      onComplete: () => stopped('ended by the server'),
    },
  )
})

stop.addEventListener('click', () => {
  sub?.unsubscribe()
  stopped('stopped')
})

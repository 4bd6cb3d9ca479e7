import { createRpcClient, isRpcError, type ValidationErrorData } from '@wirecall/client'
import type { AppRouter } from './router'

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T

// Same host and port as the page: Express serves the page, wirecall the /rpc upgrades.
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

const output = $<HTMLOutputElement>('echo')
const timeToTheMillisecond: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3 }
$<HTMLFormElement>('send').addEventListener('submit', async (event) => {
  event.preventDefault()
  const input = $<HTMLInputElement>('text')
  try {
    const { text, at } = await api.echo.query({ text: input.value })
    output.className = ''
    output.textContent = `${text} (echoed at ${at.toLocaleTimeString(undefined, timeToTheMillisecond)}, server time)`
  } catch (error) {
    output.className = 'error'
    if (!isRpcError(error)) throw error
    // A validation error names the failing field in `data.issues`.
    const issue = error.code === 'BAD_REQUEST' ? (error.data as ValidationErrorData | undefined)?.issues[0] : undefined
    output.textContent = `${error.code}: ${issue?.message ?? error.message}`
  }
})

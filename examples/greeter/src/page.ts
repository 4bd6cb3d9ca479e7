import { createRpcClient, isRpcError } from '@wirecall/client'
import type { AppRouter } from './router'

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T

const api = createRpcClient<AppRouter>({
  url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/rpc`,
  connectionParams: { name: 'browser' },
})

const state = $<HTMLSpanElement>('state')
state.textContent = api.$connection.state
api.$connection.on('state', (s) => {
  state.textContent = s
  state.dataset.state = s
})

$<HTMLFormElement>('greet').addEventListener('submit', async (event) => {
  event.preventDefault()
  const output = $<HTMLOutputElement>('answer')
  try {
    const { text, at } = await api.greet.query({ name: $<HTMLInputElement>('name').value })
    output.textContent = `${text} (server time ${at.toLocaleTimeString()})`
  } catch (error) {
    output.textContent = isRpcError(error) ? `${error.code}: ${error.message}` : String(error)
  }
})

import { describe, expect, it } from 'vitest'
import { Tasks } from '../src/session/tasks'

describe('Tasks', () => {
  it('settles once every task has, and tells of a task that rejected instead of dropping it', async () => {
    const failures: unknown[] = []
    const tasks = new Tasks((error) => failures.push(error))
    let finish!: () => void
    tasks.track(new Promise<void>((resolve) => (finish = resolve)))
    const bug = new RangeError('Maximum call stack size exceeded')
    tasks.track(Promise.reject(bug))
    let settled = false
    const done = tasks.settled().then(() => (settled = true))
    await Promise.resolve()
    await Promise.resolve()
    expect(failures).toEqual([bug])
    expect(settled).toBe(false)
    finish()
    await done
    expect(settled).toBe(true)
  })
})

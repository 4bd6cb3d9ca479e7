import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { runCli as run } from '../run-cli'
import { startServer } from '../../helpers/harness'
import { sourcesRouter } from './fixtures/sources-router'
import { strictAjv } from './strict-ajv'

// `wirecall generate schema` end to end, in-process (`main(argv, io)`): the
// files, index.json, $schema/$id, warnings on stderr, --strict, --url.

const FIXTURES = join(__dirname, 'fixtures')
const DIALECT = 'https://json-schema.org/draft/2020-12/schema'

const dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wirecall-schema-'))
  dirs.push(dir)
  return dir
}

const readJson = async (file: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>

describe('generate schema --router', () => {
  test('one file per side, index.json, $schema and $id; an AsyncAPI document beside', async () => {
    const cwd = await tempDir()
    const result = await run(
      ['generate', 'schema', '--router', `${FIXTURES}/sources-router.ts#sourcesRouter`, '--out', 'schema', '--asyncapi', 'asyncapi.json', '--server-url', 'ws://127.0.0.1:3000/rpc'],
      cwd,
    )
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    const files = (await readdir(join(cwd, 'schema'))).sort()
    const paths = [...sourcesRouter._def.procedures.keys()]
    expect(files).toHaveLength(paths.length * 2 + 1)
    expect(files).toContain('ticks.event.json')
    expect(files).toContain('admin.purge.output.json')
    expect(files).not.toContain('ticks.output.json')

    const index = await readJson(join(cwd, 'schema', 'index.json'))
    expect(index).toMatchObject({ format: 'wirecall-schema-index/1', protocol: 'wirecall.v1' })
    const procedures = index.procedures as Record<string, Record<string, unknown>>
    expect(Object.keys(procedures)).toEqual([...paths].sort())
    expect(procedures.ticks).toEqual({
      kind: 'subscription',
      idempotent: false,
      resync: true,
      input: { file: 'ticks.input.json', source: 'validator', library: 'zod' },
      event: { file: 'ticks.event.json', source: 'typescript' },
    })
    expect(procedures['admin.purge']).toMatchObject({ kind: 'mutation', idempotent: true })
    expect(procedures.viaStandard).toMatchObject({ input: { source: 'standard-json-schema' } })

    const ajv = strictAjv()
    for (const file of files.filter((f) => f !== 'index.json')) {
      const schema = await readJson(join(cwd, 'schema', file))
      expect(schema.$schema).toBe(DIALECT)
      expect(schema.$id).toBe(file)
      ajv.compile(schema)
    }

    const asyncapi = await readJson(join(cwd, 'asyncapi.json'))
    expect(asyncapi.asyncapi).toMatch(/^3\./)
    expect(JSON.stringify(asyncapi.servers)).toContain('127.0.0.1:3000')
  }, 60_000)

  test('the same router gives the same bytes; a second run removes the files of procedures that are gone', async () => {
    const cwd = await tempDir()
    const args = ['generate', 'schema', '--router', `${FIXTURES}/sources-router.ts#sourcesRouter`, '--out', 'out']
    expect((await run(args, cwd)).status).toBe(0)
    const first = await readFile(join(cwd, 'out', 'ticks.event.json'), 'utf8')
    const firstIndex = await readFile(join(cwd, 'out', 'index.json'), 'utf8')
    expect((await run(args, cwd)).status).toBe(0)
    expect(await readFile(join(cwd, 'out', 'ticks.event.json'), 'utf8')).toBe(first)
    expect(await readFile(join(cwd, 'out', 'index.json'), 'utf8')).toBe(firstIndex)

    const other = await run(['generate', 'schema', '--router', `${FIXTURES}/warning-router.ts#warningRouter`, '--out', 'out'], cwd)
    expect(other.status).toBe(0)
    expect((await readdir(join(cwd, 'out'))).sort()).toEqual(['index.json', 'ok.input.json', 'ok.output.json', 'samples.input.json', 'samples.output.json'])
  }, 60_000)

  test('warnings go to stderr, one a line with the path; --strict makes them exit 1 and writes nothing', async () => {
    const cwd = await tempDir()
    const spec = `${FIXTURES}/warning-router.ts#warningRouter`
    const loose = await run(['generate', 'schema', '--router', spec, '--out', 'loose'], cwd)
    expect(loose.status).toBe(0)
    expect(loose.stderr).toMatch(/^wirecall: warning: samples output: .*BigInt64Array.*\n$/)
    const unrepresentable = await readJson(join(cwd, 'loose', 'samples.output.json'))
    expect(unrepresentable['x-wirecall-unrepresentable']).toBe(true)

    const strict = await run(['generate', 'schema', '--router', spec, '--out', 'strict', '--strict'], cwd)
    expect(strict.status).toBe(1)
    expect(strict.stderr).toContain('wirecall: warning: samples output:')
    expect(strict.stderr).toContain('1 warning with --strict; nothing written')
    await expect(readdir(join(cwd, 'strict'))).rejects.toThrow()
  }, 60_000)

  test('usage errors exit 1 with the usage text', async () => {
    const cwd = await tempDir()
    const none = await run(['generate', 'schema', '--out', 'x'], cwd)
    expect(none.status).toBe(1)
    expect(none.stderr).toContain('needs one of --router')
    expect(none.stderr).toContain('wirecall generate schema')
    const noOut = await run(['generate', 'schema', '--router', `${FIXTURES}/warning-router.ts#warningRouter`], cwd)
    expect(noOut.status).toBe(1)
    expect(noOut.stderr).toContain('--out')
    const unknown = await run(['generate', 'schema', '--router', 'x.ts', '--out', 'x', '--bogus'], cwd)
    expect(unknown.status).toBe(1)
    expect(unknown.stderr).toContain('--bogus')
    const missing = await run(['generate', 'schema', '--router', 'nope.ts#r', '--out', 'x'], cwd)
    expect(missing.status).toBe(1)
    expect(missing.stderr).toContain('no file')
  })
})

describe('generate schema --url', () => {
  test('writes the schemas a running server describes', async () => {
    const { url } = await startServer({ router: sourcesRouter, schemaEndpoint: true })
    const cwd = await tempDir()
    const result = await run(['generate', 'schema', '--url', url, '--out', 'remote'], cwd)
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    const index = await readJson(join(cwd, 'remote', 'index.json'))
    const procedures = index.procedures as Record<string, Record<string, { source: string }>>
    expect(Object.keys(procedures)).toEqual([...sourcesRouter._def.procedures.keys()].sort())
    expect(procedures.viaZod!.input!.source).toBe('remote')
    const input = await readJson(join(cwd, 'remote', 'viaZod.input.json'))
    expect(input).toMatchObject({ $schema: DIALECT, $id: 'viaZod.input.json', properties: { at: { 'x-wirecall-type': 'Date' } } })
  }, 60_000)
})

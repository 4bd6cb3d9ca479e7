import type { ConsumerCompiler } from './packed-consumer'

/**
 * The (module, moduleResolution) pairs a consumer compiles the generated
 * `api.d.ts` under, each with strict, exactOptionalPropertyTypes and
 * noUncheckedIndexedAccess, as the issue lists them.
 *
 * TypeScript 7 removed `moduleResolution: node10` (error TS5108, "Option
 * 'moduleResolution=node10' has been removed"), so under 7 the CommonJS
 * consumer resolves as 7 does by default for `module: commonjs`, which is
 * `bundler`; consumer.test.ts checks that 7 still refuses node10, so the
 * day it stops, the pair goes back to what the issue asks.
 */
export interface ModuleSetting {
  /** `module/moduleResolution`, for test names and file names. */
  readonly label: string
  readonly module: string
  readonly moduleResolution: Record<ConsumerCompiler, string>
}

export const MODULE_SETTINGS: readonly ModuleSetting[] = [
  { label: 'esnext/bundler', module: 'esnext', moduleResolution: { 'TypeScript 5.9': 'bundler', 'TypeScript 7': 'bundler' } },
  { label: 'node16/node16', module: 'node16', moduleResolution: { 'TypeScript 5.9': 'node16', 'TypeScript 7': 'node16' } },
  { label: 'nodenext/nodenext', module: 'nodenext', moduleResolution: { 'TypeScript 5.9': 'nodenext', 'TypeScript 7': 'nodenext' } },
  { label: 'commonjs/node10', module: 'commonjs', moduleResolution: { 'TypeScript 5.9': 'node10', 'TypeScript 7': 'bundler' } },
]

/**
 * tsconfig.json of one consumer project: the strictest flags the issue
 * names, the declaration files checked too (`skipLibCheck: false`, or a
 * broken api.d.ts would pass) except TypeScript's own lib files, which
 * are half the time of each run and say nothing about ours
 * (`skipDefaultLibCheck`), DOM for the browser front end it stands for.
 */
export function consumerTsconfig(setting: ModuleSetting, compiler: ConsumerCompiler, files: readonly string[]): string {
  const config = {
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2022', 'DOM'],
      module: setting.module,
      moduleResolution: setting.moduleResolution[compiler],
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: false,
      skipDefaultLibCheck: true,
      noEmit: true,
      types: [],
    },
    files,
  }
  return `${JSON.stringify(config, null, 2)}\n`
}

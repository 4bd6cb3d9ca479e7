import { defineConfig } from 'tsup'

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm'],
    dts: true,
    sourcemap: true,
    target: 'es2022',
  },
  {
    entry: ['src/index.ts'],
    format: ['cjs'],
    dts: true,
    sourcemap: true,
    target: 'es2022',
    // superjson 2 ships ESM only; Node 20 before 20.19 cannot require() it,
    // so the CommonJS build carries its own copy.
    noExternal: ['superjson', 'copy-anything', 'is-what'],
  },
])

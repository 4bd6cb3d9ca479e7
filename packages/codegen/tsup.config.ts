import { defineConfig } from 'tsup'

// Node only: the generator reads files and runs the TypeScript checker, the
// terminal client opens a `ws` socket. `typescript` stays external (a peer:
// the user's own compiler), as do the wirecall packages.
export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    target: 'es2022',
    platform: 'node',
  },
  {
    entry: ['src/cli.ts'],
    format: ['esm'],
    sourcemap: true,
    target: 'es2022',
    platform: 'node',
    banner: { js: '#!/usr/bin/env node' },
  },
])

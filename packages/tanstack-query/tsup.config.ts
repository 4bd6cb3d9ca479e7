import { defineConfig } from 'tsup'

// Two entry points: the options builders (any TanStack adapter) and the React
// hooks. Peers (@tanstack/query-core, react) and the wirecall packages stay
// external, so an app bundles one copy of each.
export default defineConfig({
  entry: ['src/index.ts', 'src/react.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'neutral',
})

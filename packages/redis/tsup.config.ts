import { defineConfig } from 'tsup'

// Node only (Redis connections); redis and the wirecall packages stay external: the app owns the client.
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'node',
})

import { defineConfig } from 'tsup'

// One entry, usable on both sides (browser, Node, workers): platform-neutral.
// @opentelemetry/api and the wirecall packages stay external, so an app
// shares one OpenTelemetry API (its global registry) with its SDK.
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'neutral',
})

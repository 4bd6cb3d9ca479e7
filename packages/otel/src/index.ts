export { wirecallOtel, type WirecallOtel } from './wirecall-otel'
export type { WirecallOtelOptions } from './options'

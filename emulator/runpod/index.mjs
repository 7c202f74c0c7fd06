/** Public entry of the emulator for code that imports it (types in index.d.mts). */
export { directive } from "./directives.mjs";
export { startEmulator } from "./server.mjs";

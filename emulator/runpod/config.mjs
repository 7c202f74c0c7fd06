/**
 * Global knobs of the emulator: set from CLI flags / env at start, changed at runtime through
 * `POST /_emulator/config`. Per-request behaviour belongs in prompt directives instead.
 */

const nonNegativeMs = (value) => Number.isInteger(value) && value >= 0 && value <= 86_400_000;

/** Each knob: its default, a validator and, for CLI/env values, how to convert the string. */
export const KNOBS = {
  gpuTimeMs: { default: 300, valid: nonNegativeMs, parse: Number, doc: "GPU time of one image job" },
  gpuJitterMs: { default: 0, valid: nonNegativeMs, parse: Number, doc: "random extra GPU time, 0..n ms" },
  queueDelayMs: { default: 20, valid: nonNegativeMs, parse: Number, doc: "time a job waits IN_QUEUE" },
  faultRate: {
    default: 0,
    valid: (value) => typeof value === "number" && value >= 0 && value <= 1,
    parse: Number,
    doc: "fraction of submits hit by a random fault (429/503 once, FAILED, webhook dropped)",
  },
  tokenDelayMs: { default: 20, valid: nonNegativeMs, parse: Number, doc: "delay between chat tokens" },
  firstTokenMs: { default: 50, valid: nonNegativeMs, parse: Number, doc: "chat time to first token" },
  webhook: {
    default: "send",
    valid: (value) => ["send", "never", "twice"].includes(value),
    parse: String,
    doc: "webhook delivery: send | never | twice",
  },
  webhookRetryMs: {
    default: 10_000,
    valid: nonNegativeMs,
    parse: Number,
    doc: "pause before re-sending a webhook that did not get a 2xx (2 retries, as RunPod)",
  },
  retentionMs: {
    default: 30 * 60_000,
    valid: nonNegativeMs,
    parse: Number,
    doc: "how long finished jobs stay readable through /status",
  },
  apiKey: {
    default: null,
    valid: (value) => value === null || (typeof value === "string" && value.length > 0),
    parse: String,
    doc: "when set, the only bearer key accepted; otherwise any non-empty key",
  },
  publicUrl: {
    default: null,
    valid: (value) => value === null || (typeof value === "string" && /^https?:\/\/[^\s]+$/.test(value)),
    parse: String,
    doc: "origin used in s3_url outputs; defaults to the Host the job was submitted to",
  },
  chatModel: {
    default: "emulator-chat",
    valid: (value) => typeof value === "string" && value.length > 0,
    parse: String,
    doc: "model id listed by /openai/v1/models",
  },
};

export class ConfigError extends Error {}

/**
 * Returns `base` with `patch` applied; throws on unknown keys or invalid values.
 * @example
 * mergeConfig(defaultConfig(), { gpuTimeMs: 50 })
 * @param {Record<string, unknown>} base
 * @param {Record<string, unknown>} patch
 */
export function mergeConfig(base, patch) {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) {
    throw new ConfigError("config must be a JSON object");
  }
  const next = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const knob = Object.hasOwn(KNOBS, key) ? KNOBS[key] : undefined;
    if (!knob) throw new ConfigError(`unknown config key "${key}"`);
    if (!knob.valid(value)) throw new ConfigError(`invalid value for "${key}": ${JSON.stringify(value)}`);
    next[key] = value;
  }
  return next;
}

/** @returns {Record<string, unknown>} every knob at its default */
export function defaultConfig() {
  return Object.fromEntries(Object.entries(KNOBS).map(([key, knob]) => [key, knob.default]));
}

const toKebab = (key) => key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
const toEnv = (key) => `EMULATOR_${key.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()}`;

/** Listening options that are not runtime knobs. */
const LISTEN = {
  port: { parse: Number, doc: "port to listen on (0 = any free port)", default: 8788 },
  host: { parse: String, doc: "interface to bind", default: "127.0.0.1" },
};

/**
 * Reads startup options from `--kebab-case value` flags and `EMULATOR_SNAKE_CASE` env vars
 * (flags win).
 * @example
 * optionsFromCli(["--port", "8788", "--gpu-time-ms", "300"], process.env)
 * @param {string[]} argv
 * @param {Record<string, string | undefined>} env
 */
export function optionsFromCli(argv, env) {
  const specs = { ...LISTEN, ...KNOBS };
  const options = {};
  for (const [key, spec] of Object.entries(specs)) {
    const fromEnv = env[toEnv(key)];
    if (fromEnv !== undefined && fromEnv !== "") options[key] = spec.parse(fromEnv);
  }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const [name, inline] = flag.split("=", 2);
    const key = Object.keys(specs).find((candidate) => `--${toKebab(candidate)}` === name);
    if (!key) throw new ConfigError(`unknown option ${flag}`);
    const raw = inline ?? argv[++i];
    if (raw === undefined) throw new ConfigError(`option ${name} needs a value`);
    options[key] = specs[key].parse(raw);
  }
  for (const [key, spec] of Object.entries(LISTEN)) options[key] ??= spec.default;
  return options;
}

/** One line per option, for `--help`. */
export function usage() {
  const specs = { ...LISTEN, ...KNOBS };
  const lines = Object.entries(specs).map(
    ([key, spec]) =>
      `  --${toKebab(key)} (${toEnv(key)})  ${spec.doc} [default: ${JSON.stringify(spec.default)}]`,
  );
  return ["usage: node emulator/runpod/server.mjs [options]", ...lines].join("\n");
}

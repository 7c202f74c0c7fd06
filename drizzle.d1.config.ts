import { defineConfig } from "drizzle-kit";

/**
 * `npm run db:generate` (with drizzle.pg.config.ts): writes the next D1 migration from the
 * schema declaration (src/db/schema). Files keep wrangler's NNNN_name.sql layout in
 * migrations/d1 (wrangler.toml's migrations_dir); drizzle-kit's snapshots live in meta/, which
 * wrangler ignores. See migrations/README.md.
 */
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema/sqlite.ts",
  out: "./migrations/d1",
  migrations: { prefix: "index" },
  breakpoints: true,
});

import { defineConfig } from "drizzle-kit";

/**
 * `npm run db:generate` (with drizzle.d1.config.ts): writes the next PostgreSQL migration
 * from the schema declaration (src/db/schema), applied by scripts/migrate-postgres.mjs.
 * Partitioning is outside drizzle-kit: see migrations/README.md.
 */
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/schema/postgres.ts",
  out: "./migrations/postgres",
  migrations: { prefix: "index" },
  breakpoints: true,
});

// `npm run db:migrate:postgres`: applies migrations/postgres/*.sql to DATABASE_URL
// (the database behind the production Hyperdrive configuration, or any other).
import { applyPostgresMigrations } from "./lib/postgres.mjs";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("Set DATABASE_URL to the PostgreSQL database to migrate.");
  process.exit(2);
}
const files = await applyPostgresMigrations(url);
console.log(`migrations up to date (${files.length} files)`);

import { env } from "cloudflare:test";
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from "@simplewebauthn/server";
import { sql } from "drizzle-orm";
import { expect } from "vitest";
import { loadConfig } from "../../../src/config";
import type { Repository } from "../../../src/db/repository";
import { SCHEMA } from "../../../src/db/schema/tables";
import { newId } from "../../../src/lib/ids";
import type { Fetch } from "./backends";
import { SoftAuthenticator } from "./soft-authenticator";

/** The web origin the deployment under test serves (PUBLIC_BASE_URL), which passkeys are bound to. */
export const WEB_ORIGIN = new URL(loadConfig(env).PUBLIC_BASE_URL).origin;

export interface SignedIn {
  token: string;
  refresh_token: string;
  expires_at: string;
  user: { id: string; display_name: string; kind: "guest" | "account"; persona: unknown };
}

export function send(token: string | null, body?: unknown, method = "POST"): RequestInit {
  const headers = new Headers();
  if (token) headers.set("Authorization", `Bearer ${token}`);
  if (body !== undefined) headers.set("Content-Type", "application/json");
  return { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) };
}

export const get = (token: string) => send(token, undefined, "GET");
export const del = (token: string) => send(token, undefined, "DELETE");

export async function guestOn(fetch: Fetch, name = "Ada"): Promise<SignedIn> {
  const res = await fetch("/auth/guest", send(null, { display_name: name }));
  expect(res.status).toBe(201);
  return res.json();
}

/** Registers a new soft authenticator for the signed-in caller, over HTTP. */
export async function addPasskey(
  fetch: Fetch,
  who: SignedIn,
  name = "Laptop",
): Promise<{ authenticator: SoftAuthenticator; passkey: { id: string; name: string } }> {
  const optionsRes = await fetch("/auth/passkeys/register/options", send(who.token));
  expect(optionsRes.status).toBe(200);
  const options = await optionsRes.json<PublicKeyCredentialCreationOptionsJSON>();
  const authenticator = await SoftAuthenticator.create();
  const response = await authenticator.register(options, { origin: WEB_ORIGIN });
  const res = await fetch("/auth/passkeys/register", send(who.token, { response, name }));
  expect(res.status, await res.clone().text()).toBe(201);
  const body = await res.json<{ passkey: { id: string; name: string } }>();
  return { authenticator, passkey: body.passkey };
}

export async function loginOptions(fetch: Fetch): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const res = await fetch("/auth/passkeys/login/options", send(null));
  expect(res.status).toBe(200);
  return res.json();
}

/** A finished job with one stored image, written straight to the table and the bucket. */
export async function seedJobWithImage(
  repo: Repository,
  userId: string,
): Promise<{ jobId: string; key: string }> {
  const jobId = newId("gen");
  const key = `images/${"ab".repeat(20)}/${jobId}-0.png`;
  await env.IMAGES.put(key, new Uint8Array([137, 80, 78, 71]));
  const images = JSON.stringify([
    { url: `${WEB_ORIGIN}/${key}`, width: 1, height: 1, content_type: "image/png", key },
  ]);
  const now = new Date().toISOString();
  await repo.sql.run(sql`INSERT INTO image_generation_history (id, user_id, status, prompt, params, images, created_at, updated_at)
    VALUES (${jobId}, ${userId}, 'succeeded', 'a fox', '{}', ${images}, ${now}, ${now})`);
  await repo.sql.run(sql`INSERT INTO idempotency_keys (user_id, key, request_hash, job_id, created_at)
    VALUES (${userId}, ${newId("idem")}, 'h', ${jobId}, ${now})`);
  await repo.sql.run(
    sql`INSERT INTO credit_usage (user_id, day, used) VALUES (${userId}, ${now.slice(0, 10)}, 3)
    ON CONFLICT (user_id, day) DO NOTHING`,
  );
  return { jobId, key };
}

/** Ids a user's rows are found by, read before a deletion (children point at them). */
export interface OwnedIds {
  user: string;
  characters: string[];
  chats: string[];
  sessions: string[];
  jobs: string[];
}

export async function ownedIds(repo: Repository, userId: string): Promise<OwnedIds> {
  const ids = async (query: ReturnType<typeof sql>) =>
    (await repo.sql.all<{ id: string }>(query)).map((row) => row.id);
  return {
    user: userId,
    characters: await ids(sql`SELECT id FROM characters WHERE owner_id = ${userId}`),
    chats: await ids(sql`SELECT id FROM chats WHERE user_id = ${userId}`),
    sessions: await ids(sql`SELECT id FROM sessions WHERE user_id = ${userId}`),
    jobs: await ids(sql`SELECT id FROM image_generation_history WHERE user_id = ${userId}`),
  };
}

/**
 * Rows of the user in every table the schema declares (SCHEMA, so a table added later is
 * counted too, or this throws until it says how its rows are tied to a user): by `user_id`
 * or `owner_id`, else by the column pointing at a parent the user owned.
 */
export async function rowsPerTable(repo: Repository, owned: OwnedIds): Promise<Record<string, number>> {
  const inList = (values: string[]) =>
    values.length === 0
      ? sql`(NULL)`
      : sql`(${sql.join(
          values.map((v) => sql`${v}`),
          sql`, `,
        )})`;
  const byParent: Record<string, string[]> = {
    character_id: owned.characters,
    chat_id: owned.chats,
    session_id: owned.sessions,
    job_id: owned.jobs,
  };
  const counts: Record<string, number> = {};
  for (const [table, declaration] of Object.entries(SCHEMA)) {
    const columns = Object.keys(declaration.columns);
    const name = sql.raw(table);
    let where: ReturnType<typeof sql>;
    if (table === "users") where = sql`id = ${owned.user}`;
    else if (columns.includes("user_id")) where = sql`user_id = ${owned.user}`;
    else if (columns.includes("owner_id")) where = sql`owner_id = ${owned.user}`;
    else {
      const parent = columns.find((c) => c in byParent);
      if (!parent) throw new Error(`rowsPerTable: how are rows of ${table} tied to a user?`);
      where = sql`${sql.raw(parent)} IN ${inList(byParent[parent] ?? [])}`;
    }
    const [row] = await repo.sql.all<{ n: number | string }>(
      sql`SELECT COUNT(*) AS n FROM ${name} WHERE ${where}`,
    );
    counts[table] = Number(row?.n ?? 0);
  }
  return counts;
}

/** Every key in the image bucket. */
export async function bucketKeys(): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.IMAGES.list({ cursor, limit: 1000 });
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys;
}

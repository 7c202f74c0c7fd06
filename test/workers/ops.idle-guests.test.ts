import {
  createExecutionContext,
  createScheduledController,
  env,
  waitOnExecutionContext,
} from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { Repository } from "../../src/db/repository";
import worker from "../../src/index";
import { newId } from "../../src/lib/ids";
import { deleteIdleGuests } from "../../src/ops/idle-guests";
import { R2ImageStore } from "../../src/storage/r2-store";
import { backends } from "./support/backends";

const DAY = 86_400_000;
const NOW = new Date();
const ago = (days: number) => new Date(NOW.getTime() - days * DAY).toISOString();

/**
 * A guest with a character (and tag), a chat with a message, a job with a stored image and an
 * idempotency key. `created`, `lastMessage` and `jobCreated` are days ago.
 */
async function seedGuest(
  repo: Repository,
  ages: { created: number; lastMessage: number; jobCreated: number },
): Promise<{ userId: string; imageKey: string }> {
  const userId = newId("usr");
  const characterId = newId("chr");
  const chatId = newId("cht");
  const jobId = newId("job");
  const imageKey = `test-idle/${jobId}.png`;
  await env.IMAGES.put(imageKey, new Uint8Array([1, 2, 3]));
  const images = JSON.stringify([
    { url: `https://img.example/${imageKey}`, width: 1, height: 1, content_type: "image/png", key: imageKey },
  ]);
  await repo.sql.batch([
    sql`INSERT INTO users (id, display_name, created_at) VALUES (${userId}, 'Guest', ${ago(ages.created)})`,
    sql`INSERT INTO characters (id, owner_id, name, created_at, updated_at)
        VALUES (${characterId}, ${userId}, 'Idle', ${ago(ages.created)}, ${ago(ages.created)})`,
    sql`INSERT INTO character_tags (tag, character_id) VALUES ('idle', ${characterId})`,
    sql`INSERT INTO chats (id, user_id, character_id, title, created_at, last_message_at)
        VALUES (${chatId}, ${userId}, ${characterId}, 'Idle', ${ago(ages.created)}, ${ago(ages.lastMessage)})`,
    sql`INSERT INTO chat_history (id, chat_id, user_id, role, content, created_at)
        VALUES (${newId("msg")}, ${chatId}, ${userId}, 'user', 'hello', ${ago(ages.lastMessage)})`,
    sql`INSERT INTO image_generation_history (id, user_id, status, prompt, params, images, created_at, updated_at)
        VALUES (${jobId}, ${userId}, 'succeeded', 'a fox', '{}', ${images}, ${ago(ages.jobCreated)}, ${ago(ages.jobCreated)})`,
    sql`INSERT INTO idempotency_keys (user_id, key, request_hash, job_id, created_at)
        VALUES (${userId}, ${newId("idem")}, 'h', ${jobId}, ${ago(ages.jobCreated)})`,
  ]);
  return { userId, imageKey };
}

/** Rows the user still owns, per table. */
async function owned(repo: Repository, userId: string): Promise<Record<string, number>> {
  const count = async (query: ReturnType<typeof sql>) =>
    Number((await repo.sql.all<{ n: number | string }>(query))[0]?.n ?? 0);
  return {
    users: await count(sql`SELECT COUNT(*) AS n FROM users WHERE id = ${userId}`),
    characters: await count(sql`SELECT COUNT(*) AS n FROM characters WHERE owner_id = ${userId}`),
    character_tags: await count(
      sql`SELECT COUNT(*) AS n FROM character_tags WHERE character_id IN (SELECT id FROM characters WHERE owner_id = ${userId})`,
    ),
    chats: await count(sql`SELECT COUNT(*) AS n FROM chats WHERE user_id = ${userId}`),
    chat_history: await count(sql`SELECT COUNT(*) AS n FROM chat_history WHERE user_id = ${userId}`),
    jobs: await count(sql`SELECT COUNT(*) AS n FROM image_generation_history WHERE user_id = ${userId}`),
    idempotency_keys: await count(sql`SELECT COUNT(*) AS n FROM idempotency_keys WHERE user_id = ${userId}`),
  };
}

const NOTHING = {
  users: 0,
  characters: 0,
  character_tags: 0,
  chats: 0,
  chat_history: 0,
  jobs: 0,
  idempotency_keys: 0,
};
const ONE_EACH = {
  users: 1,
  characters: 1,
  character_tags: 1,
  chats: 1,
  chat_history: 1,
  jobs: 1,
  idempotency_keys: 1,
};

describe.each(backends)("idle guests on $name", { timeout: 30_000 }, (backend) => {
  it("deletes a guest idle past GUEST_RETENTION_DAYS with everything it owns, images included", async () => {
    const repo = backend.repo();
    try {
      const idle = await seedGuest(repo, { created: 60, lastMessage: 45, jobCreated: 40 });
      const chatting = await seedGuest(repo, { created: 60, lastMessage: 2, jobCreated: 40 });
      const generating = await seedGuest(repo, { created: 60, lastMessage: 45, jobCreated: 3 });
      const recent = await seedGuest(repo, { created: 1, lastMessage: 1, jobCreated: 1 });
      expect(await owned(repo, idle.userId)).toEqual(ONE_EACH);

      const deleted = await deleteIdleGuests(
        { repo, store: new R2ImageStore(env.IMAGES), config: { GUEST_RETENTION_DAYS: 30 } },
        NOW,
      );
      expect(deleted).toBeGreaterThanOrEqual(1);
      expect(await owned(repo, idle.userId)).toEqual(NOTHING);
      expect(await env.IMAGES.get(idle.imageKey)).toBeNull();
      for (const kept of [chatting, generating, recent]) {
        expect(await owned(repo, kept.userId)).toEqual(ONE_EACH);
        expect(await env.IMAGES.get(kept.imageKey)).not.toBeNull();
      }
    } finally {
      await repo.sql.close();
    }
  });

  it("never deletes an account, however idle, nor a guest seen recently", async () => {
    const repo = backend.repo();
    try {
      const account = await seedGuest(repo, { created: 400, lastMessage: 400, jobCreated: 400 });
      await repo.sql.run(sql`UPDATE users SET kind = 'account' WHERE id = ${account.userId}`);
      const signedInLately = await seedGuest(repo, { created: 90, lastMessage: 90, jobCreated: 90 });
      await repo.sql.run(sql`UPDATE users SET last_seen_at = ${ago(1)} WHERE id = ${signedInLately.userId}`);
      await deleteIdleGuests(
        { repo, store: new R2ImageStore(env.IMAGES), config: { GUEST_RETENTION_DAYS: 30 } },
        NOW,
      );
      for (const kept of [account, signedInLately]) {
        expect(await owned(repo, kept.userId)).toEqual(ONE_EACH);
        expect(await env.IMAGES.get(kept.imageKey)).not.toBeNull();
      }
    } finally {
      await repo.sql.close();
    }
  });

  it("keeps a guest just inside the retention period", async () => {
    const repo = backend.repo();
    try {
      const inside = await seedGuest(repo, { created: 29, lastMessage: 29, jobCreated: 29 });
      await deleteIdleGuests(
        { repo, store: new R2ImageStore(env.IMAGES), config: { GUEST_RETENTION_DAYS: 30 } },
        NOW,
      );
      expect(await owned(repo, inside.userId)).toEqual(ONE_EACH);
    } finally {
      await repo.sql.close();
    }
  });
});

describe("the nightly cron", { timeout: 60_000 }, () => {
  it("deletes idle guests on D1", async () => {
    const repo = backends[0]?.repo();
    if (!repo) throw new Error("no D1 backend");
    const idle = await seedGuest(repo, { created: 90, lastMessage: 90, jobCreated: 90 });
    const ctx = createExecutionContext();
    await worker.scheduled?.(createScheduledController({ cron: "0 3 * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(await owned(repo, idle.userId)).toEqual(NOTHING);
    expect(await env.IMAGES.get(idle.imageKey)).toBeNull();
  });
});

import { is, SQL, type SQLChunk, StringChunk, sql } from "drizzle-orm";
import type { Allowances } from "../abuse/credits";
import type { Chat } from "../db/models";
import type { Repository } from "../db/repository";
import { userCallName } from "./names";

/**
 * What of a chat's turn context can change without the user's session writing it, read in
 * one small query: the chat row (ownership, title, the summary long memory writes), the
 * user's name and persona (edited over REST), the version of the chat's character if the
 * user may still see it (its owner may edit it at any time) and the id of the chat's newest
 * message (a write the session did not see). A kept context whose character version and
 * newest message match is current; only the chat, name and persona are taken from here.
 */
export interface TurnStamp {
  chat: Chat;
  userName: string;
  personaDescription: string | null;
  /** `characters.updated_at`, or null when the character is gone or no longer visible. */
  characterVersion: string | null;
  lastMessageId: string | null;
}

interface StampRow extends Chat {
  user_id: string;
  display_name: string | null;
  persona_name: string | null;
  persona_description: string | null;
  character_version: string | null;
  last_message_id: string | null;
}

/** The stamp's columns, over `chats c JOIN users u` narrowed to the chat and its user. */
function stampColumns(userId: unknown) {
  return [
    sql`c.id`,
    sql`c.character_id`,
    sql`c.title`,
    sql`c.created_at`,
    sql`c.last_message_at`,
    sql`c.summary`,
    sql`c.summary_through`,
    sql`u.id`,
    sql`u.display_name`,
    sql`u.persona_name`,
    sql`u.persona_description`,
    sql`(SELECT ch.updated_at FROM characters ch
           WHERE ch.id = c.character_id AND (ch.is_public = 1 OR ch.owner_id = ${userId}))`,
    sql`(SELECT h.id FROM chat_history h WHERE h.chat_id = c.id
           ORDER BY h.created_at DESC, h.id DESC LIMIT 1)`,
  ];
}

const STAMP_NAMES = [
  "id",
  "character_id",
  "title",
  "created_at",
  "last_message_at",
  "summary",
  "summary_through",
  "user_id",
  "display_name",
  "persona_name",
  "persona_description",
  "character_version",
  "last_message_id",
] as const;

/** The chat's stamp, or null when the chat is not the user's (or does not exist). */
export async function readTurnStamp(
  repo: Repository,
  userId: string,
  chatId: string,
): Promise<TurnStamp | null> {
  const columns = stampColumns(userId).map((column, i) => sql`${column} AS ${sql.raw(STAMP_NAMES[i] ?? "")}`);
  const rows = await repo.sql.all<StampRow>(
    sql`SELECT ${sql.join(columns, sql`, `)}
        FROM chats c JOIN users u ON u.id = c.user_id
        WHERE c.id = ${chatId} AND c.user_id = ${userId}`,
  );
  const row = rows[0];
  return row ? stampOf(row) : null;
}

/** `chargeStatement` flattened (`flatStatement`), made on the first turn an isolate charges. */
let flatCharge: ((values: unknown[]) => SQL) | undefined;

/**
 * A turn's credit charge (the guarded upsert of `CreditsRepo.charge`, the same statement) that
 * also returns the chat's stamp, each column a subquery of its `RETURNING`: a turn whose
 * context the session kept pays and checks it in one round trip instead of two. Null when the
 * allowance does not cover `cost` (nothing written); `stamp` null when the chat is not the user's.
 */
export async function chargeWithStamp(
  repo: Repository,
  userId: string,
  chatId: string,
  day: string,
  cost: number,
  allowances: Allowances,
): Promise<{ used: number; stamp: TurnStamp | null } | null> {
  flatCharge ??= flatStatement(chargeStatement);
  const rows = await repo.sql.all<{ used: number | string } & NullableStampRow>(
    flatCharge([userId, chatId, day, cost, allowances.account, allowances.guest]),
  );
  const row = rows[0];
  if (!row) return null;
  return { used: Number(row.used), stamp: row.id === null ? null : stampOf(row as StampRow) };
}

/**
 * The charge's statement as drizzle builds it: 13 subqueries, each nesting a column's `sql`,
 * ~45 parameters. `chargeWithStamp` sends the same statement through `flatStatement`, so its
 * ~300 chunks are not built and walked again on every turn (bench/ws/RESULTS.md, Session 9).
 */
export function chargeStatement(
  userId: unknown,
  chatId: unknown,
  day: unknown,
  cost: unknown,
  account: unknown,
  guest: unknown,
): SQL {
  const limit = sql`(CASE WHEN (SELECT kind FROM users WHERE id = ${userId}) = 'account'
      THEN CAST(${account} AS INTEGER) ELSE CAST(${guest} AS INTEGER) END)`;
  const returned = stampColumns(userId).map(
    (column, i) =>
      sql`(SELECT ${column} FROM chats c JOIN users u ON u.id = c.user_id
             WHERE c.id = ${chatId} AND c.user_id = ${userId}) AS ${sql.raw(STAMP_NAMES[i] ?? "")}`,
  );
  return sql`INSERT INTO credit_usage (user_id, day, used)
        SELECT ${userId}, ${day}, CAST(${cost} AS INTEGER) WHERE CAST(${cost} AS INTEGER) <= ${limit}
        ON CONFLICT (user_id, day) DO UPDATE SET used = credit_usage.used + excluded.used
        WHERE credit_usage.used + excluded.used <= ${limit}
        RETURNING used, ${sql.join(returned, sql`, `)}`;
}

/**
 * A statement built once with a marker for each argument and flattened: its text merged into
 * one string chunk between parameters (made once), so a call only puts its values in the
 * slots. Renders to the same text and parameters, in any dialect, as `build(...values)`
 * (statements made only of `sql` text, nested `sql` and plain values).
 */
export function flatStatement(build: (...args: unknown[]) => SQL): (values: unknown[]) => SQL {
  const markers = Array.from({ length: build.length }, (_, slot) => ({ slot }));
  const chunks: (StringChunk | { slot: number })[] = [];
  let text = "";
  const walk = (query: SQL) => {
    for (const chunk of query.queryChunks) {
      if (is(chunk, StringChunk)) text += chunk.value.join("");
      else if (is(chunk, SQL)) walk(chunk);
      else {
        const slot = markers.indexOf(chunk as { slot: number });
        if (slot < 0) throw new Error("flatStatement: a chunk that is neither text, sql nor an argument");
        chunks.push(new StringChunk(text), { slot });
        text = "";
      }
    }
  };
  walk(build(...markers));
  chunks.push(new StringChunk(text));
  return (values) =>
    sql.fromList(
      chunks.map(
        (chunk): SQLChunk => (chunk instanceof StringChunk ? chunk : (values[chunk.slot] as SQLChunk)),
      ),
    );
}

type NullableStampRow = { [K in keyof StampRow]: StampRow[K] | null };

function stampOf(row: StampRow): TurnStamp {
  const personaName = row.persona_name?.trim();
  return {
    chat: {
      id: row.id,
      character_id: row.character_id,
      title: row.title,
      created_at: row.created_at,
      last_message_at: row.last_message_at,
      summary: row.summary,
      summary_through: row.summary_through,
    },
    userName: personaName ? personaName : userCallName({ id: row.user_id, display_name: row.display_name }),
    personaDescription: row.persona_description,
    characterVersion: row.character_version,
    lastMessageId: row.last_message_id,
  };
}

import { sql } from "drizzle-orm";
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

/** The chat's stamp, or null when the chat is not the user's (or does not exist). */
export async function readTurnStamp(
  repo: Repository,
  userId: string,
  chatId: string,
): Promise<TurnStamp | null> {
  const rows = await repo.sql.all<StampRow>(
    sql`SELECT c.id, c.character_id, c.title, c.created_at, c.last_message_at, c.summary, c.summary_through,
          u.id AS user_id, u.display_name, u.persona_name, u.persona_description,
          (SELECT ch.updated_at FROM characters ch
             WHERE ch.id = c.character_id AND (ch.is_public = 1 OR ch.owner_id = ${userId})) AS character_version,
          (SELECT h.id FROM chat_history h WHERE h.chat_id = c.id
             ORDER BY h.created_at DESC, h.id DESC LIMIT 1) AS last_message_id
        FROM chats c JOIN users u ON u.id = c.user_id
        WHERE c.id = ${chatId} AND c.user_id = ${userId}`,
  );
  const row = rows[0];
  if (!row) return null;
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

import { sql } from "drizzle-orm";
import type { User } from "../models";
import type { UserRow } from "../schema/rows";
import type { SqlClient } from "../sql-client";

export class UsersRepo {
  constructor(private readonly db: SqlClient) {}

  async create(user: User): Promise<User> {
    await this.db.run(
      sql`INSERT INTO users (id, display_name, created_at) VALUES (${user.id}, ${user.display_name}, ${user.created_at})`,
    );
    return user;
  }

  async get(id: string): Promise<User | null> {
    const rows = await this.db.all<UserRow>(
      sql`SELECT id, display_name, created_at FROM users WHERE id = ${id}`,
    );
    return rows[0] ?? null;
  }
}

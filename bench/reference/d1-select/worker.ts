// Reference: a bare Worker that runs the same D1 SELECT as GET /api/v1/characters and
// returns its rows as JSON, with no framework, auth, validation or rate limit. `/one` reads
// one narrow row by its key instead: the floor of a D1 round trip (bench/loadtest/ceiling.mjs).
interface Env {
  DB: D1Database;
}

export default {
  async fetch(req, env) {
    if (new URL(req.url).pathname === "/one") {
      const row = await env.DB.prepare("SELECT id, updated_at FROM characters WHERE id = ?")
        .bind("chr_sample_marrow_vell")
        .first();
      return Response.json(row);
    }
    const { results, meta } = await env.DB.prepare(
      "SELECT id, owner_id, name, description, personality, scenario, greeting, system_prompt, example_dialogue, tags, avatar_url, is_public, chat_count, created_at, updated_at FROM characters WHERE is_public = 1 ORDER BY created_at DESC, id DESC LIMIT 21",
    ).all();
    // Rows read and written, for the cost model (docs/cost.md): D1 bills by these.
    return Response.json(
      { items: results.slice(0, 20) },
      { headers: { "X-Rows-Read": String(meta.rows_read), "X-Rows-Written": String(meta.rows_written) } },
    );
  },
} satisfies ExportedHandler<Env>;

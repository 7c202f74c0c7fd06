/** The bare baseline: what `wrangler dev` serves with no work at all, for the soak's req/s comparison. */
export default {
  async fetch(request) {
    return Response.json({ hello: "world", ip: request.headers.get("CF-Connecting-IP") });
  },
} satisfies ExportedHandler;

// Reference: the cheapest possible Worker, served by `wrangler dev` exactly like the service.
export default {
  fetch: () => new Response("hello", { headers: { "Content-Type": "text/plain" } }),
} satisfies ExportedHandler;

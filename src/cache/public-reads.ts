import { markApiStaticHeaders, withApiStaticHeaders } from "../http/static-headers";
import { IsolateCache } from "./isolate-cache";

/**
 * The isolate tier of public, user-independent reads (popular characters). Fresh for 5 s,
 * then served stale for up to 25 s more while one reload runs, never past the response's own
 * `Date` + `max-age`: an isolate serving 1 000 req/s asks the Cache API about once per 5 s
 * per key instead of 1 000 times per second. 64 keys (popular has 50 limits) within 4 MiB of
 * an isolate's 128 MB (a kept JSON body is held twice: as it is and gzipped, for the clients
 * that take gzip). Its reads are `/api` routes: a kept entry carries the secure and CORS
 * headers every `/api` answer gets, so the middleware does not set them again per request.
 */
export const publicReads = new IsolateCache({
  maxEntries: 64,
  maxBytes: 4 * 1024 * 1024,
  freshMs: 5_000,
  staleMs: 25_000,
  finishHeaders: withApiStaticHeaders,
  onServe: markApiStaticHeaders,
});

import { afterAll } from "vitest";
import { socketsSettled } from "../workers/support/session";

// Every test file ends with no socket open on the server side and every close reported: work a
// file leaves in flight is torn down under it, which vitest reports as an unhandled error
// ("Closing rpc while ... was pending") and fails the whole run.
afterAll(() => socketsSettled());

import type { ServerEvent } from "./events";

/**
 * Where the rest of the service sends a user's live events. The generation pipeline
 * publishes `generation.updated` here; the `UserSession` Durable Object fans it out to
 * every socket of that user.
 */
export interface UserEventPublisher {
  publish(userId: string, event: ServerEvent): Promise<void>;
}

/** Publishes through the user's `UserSession` object (one RPC; a user with no socket costs one no-op call). */
export function sessionPublisher(env: Pick<Env, "USER_SESSION">): UserEventPublisher {
  return {
    async publish(userId, event) {
      const stub = env.USER_SESSION.get(env.USER_SESSION.idFromName(userId));
      await stub.publish(event);
    },
  };
}

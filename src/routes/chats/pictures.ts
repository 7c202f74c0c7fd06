import { budgetExhausted } from "../../abuse/credits";
import type { Job } from "../../db/models";
import { ApiError } from "../../errors/api-error";
import { requestChatPicture } from "../../generation/chat-picture";
import { toPublicJob } from "../../generation/public-job";
import { defineRoute, jsonRequest, jsonResponse, routes } from "../../http/route";
import { userId } from "../../middleware/auth";
import { describeError, log } from "../../ops/log";
import { JobSchema } from "../generations/schemas";
import { PictureBody } from "./depth-schemas";
import { ChatParams } from "./schemas";
import { refuseWhileReplying, takeChatTurn } from "./session-notice";

const route = defineRoute({
  method: "post",
  path: "/chats/{id}/pictures",
  summary: "The character sends a picture: a generation job linked to the chat (as the chat.picture frame)",
  tags: ["chats"],
  zone: "strict",
  auth: "user",
  request: { params: ChatParams, body: jsonRequest(PictureBody, false) },
  responses: {
    202: jsonResponse(JobSchema, "Queued; Location names the job, its message arrives in the chat"),
  },
});

export const chatPictures = routes().openapi(route, async (c) => {
  const { id } = c.req.valid("param");
  const { prompt } = c.req.valid("json");
  const owner = userId(c);
  const { repo, config, jobs, publisher } = c.var.services;
  const nowMs = Date.now();
  // Someone else's (or no) chat is 404 before it costs a turn.
  if (!(await repo.chats.get(id, owner))) throw ApiError.notFound("chat");
  await refuseWhileReplying(c.env, owner, id);
  const turn = await takeChatTurn(c.env, owner);
  if (!turn.allowed) {
    throw new ApiError(
      429,
      "rate_limited",
      `At most ${config.CHAT_TURNS_PER_MIN} chat turns a minute; try again in ${turn.retryAfterS} s.`,
      { headers: { "Retry-After": String(turn.retryAfterS) } },
    );
  }
  const announce = (job: Job) =>
    c.executionCtx.waitUntil(
      publisher
        .publish(owner, { type: "generation.updated", job: toPublicJob(job) })
        .catch((error: unknown) => {
          log.warn("announcing a chat picture failed", { job_id: job.id, error: describeError(error) });
        }),
    );
  const outcome = await requestChatPicture(
    { env: c.env, config, repo, jobs, announce },
    owner,
    id,
    prompt,
    nowMs,
  );
  switch (outcome.kind) {
    case "not_found":
      throw ApiError.notFound("chat");
    case "budget_exhausted":
      throw budgetExhausted(outcome.cost, nowMs);
    case "quota_exceeded":
      throw new ApiError(
        429,
        "quota_exceeded",
        `At most ${outcome.maxActive} generations may be queued or running at once; wait for one to finish.`,
      );
    case "unavailable":
      throw new ApiError(503, "upstream_unavailable", "The generation queue is unavailable; retry shortly.", {
        headers: { "Retry-After": "5" },
      });
    case "created":
      return c.json(toPublicJob(outcome.job), 202, { Location: `/api/v1/generations/${outcome.job.id}` });
  }
});

import { ApiError } from "../../errors/api-error";
import { defineRoute, jsonResponse, routes } from "../../http/route";
import { userId } from "../../middleware/auth";
import { loadTurnContext, promptInputOf, TurnRefused } from "../../realtime/chat-context";
import { planPrompt } from "../../realtime/prompt-builder";
import { ContextSchema } from "./depth-schemas";
import { ChatParams } from "./schemas";

const route = defineRoute({
  method: "get",
  path: "/chats/{id}/context",
  summary: "What the next turn would send the model: messages, lore that fired, whether the summary is in",
  tags: ["chats"],
  zone: "api",
  auth: "user",
  request: { params: ChatParams },
  responses: { 200: jsonResponse(ContextSchema, "The prompt of the next turn") },
});

/**
 * The preview shares the turn's code path: the same context loader and `planPrompt`, without
 * a new user message (the next one is not known yet; it would go last, and first in budget).
 */
export const chatContext = routes().openapi(route, async (c) => {
  const { id } = c.req.valid("param");
  const { repo, config } = c.var.services;
  const budget = config.LLM_CONTEXT_BUDGET_CHARS;
  let context: Awaited<ReturnType<typeof loadTurnContext>>;
  try {
    context = await loadTurnContext(repo, userId(c), id, budget);
  } catch (error) {
    if (error instanceof TurnRefused) throw ApiError.notFound("chat");
    throw error;
  }
  const plan = planPrompt(promptInputOf(context, budget));
  return c.json(
    {
      messages: plan.messages,
      chars: plan.chars,
      budget_chars: budget,
      lore: plan.lore,
      summary_used: plan.summary_used,
    },
    200,
  );
});

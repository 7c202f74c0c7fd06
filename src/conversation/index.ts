export { type CharacterBook, type CharacterBookEntry, characterBookSchema } from "./character-book";
export { type ActiveLoreEntry, activateLore, type LoreActivation } from "./lorebook";
export { type ConversationMessage, type ImageAttachment, newMessage, type Swipe } from "./message";
export { type ChatFile, exportStChat, importStChat } from "./st-chat-file";
export { buildSummaryRequest, foldIntoSummary, type SummaryOutcome, type SummaryTurn } from "./summary";
export {
  continueReply,
  editMessage,
  historyOf,
  idsFrom,
  lastAssistant,
  MAX_SWIPES,
  regenerate,
  swipe,
  swipeItems,
} from "./swipes";

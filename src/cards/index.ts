export type { CardExtras } from "./card-extras";
export { buildCard, type CharacterCardFields, parseCard } from "./card-mapping";
export { embedCardInPng, extractCardFromPng, stripTextChunks } from "./card-png";
export { CardError } from "./errors";
export { MAX_CARD_EXTRAS_BYTES, MAX_INFLATED_TEXT_BYTES } from "./limits";

export type { CardExtras } from "./card-extras";
export { buildCard, type CharacterCardFields, parseCard } from "./card-mapping";
export { embedCardInPng, extractCardFromPng } from "./card-png";
export { CardError } from "./errors";

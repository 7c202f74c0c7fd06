/**
 * A card that cannot be read: not a card at all, or a field of the wrong type or size.
 * The message names what is wrong; `path` names the offending field in dotted form
 * (`data.tags.3`) when the problem sits in one.
 *
 * @example
 * throw new CardError("data.name must not be empty", "data.name");
 */
export class CardError extends Error {
  override readonly name = "CardError";

  constructor(
    message: string,
    public readonly path?: string,
  ) {
    super(message);
  }
}

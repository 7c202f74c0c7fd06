/** An object with `order`'s keys first, then the rest; built from data properties only. */
export function ordered(values: Map<string, unknown>, order: readonly string[]): Record<string, unknown> {
  const keys = new Set([...order.filter((key) => values.has(key)), ...values.keys()]);
  return Object.fromEntries([...keys].map((key) => [key, values.get(key)]));
}

export function omit(object: object, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([key]) => !keys.includes(key)));
}

export function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

/** Equality of JSON values; key order is ignored. */
export function isSameJson(a: unknown, b: unknown): boolean {
  if (a === b) {
    return true;
  }
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
    return false;
  }
  if (Array.isArray(a) !== Array.isArray(b)) {
    return false;
  }
  const aRecord = a as Record<string, unknown>;
  const bRecord = b as Record<string, unknown>;
  const keys = Object.keys(aRecord);
  return (
    keys.length === Object.keys(bRecord).length &&
    keys.every((key) => Object.hasOwn(bRecord, key) && isSameJson(aRecord[key], bRecord[key]))
  );
}

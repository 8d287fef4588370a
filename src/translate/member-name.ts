/** The member set on an SDK tagged-union value (`{text: …}`, `{toolUse: …}`), for messages. */
export function memberName(value: object | undefined): string {
  if (value === undefined) return 'none';
  const entries: [string, unknown][] = Object.entries(value);
  return entries.find(([, member]) => member !== undefined)?.[0] ?? 'none';
}

/** `--expires 30d`-style durations: a positive integer and one unit (s, m, h, d, w). */
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,6})\s*([smhdw])$/i.exec(text.trim());
  if (!match) return undefined;
  const n = Number(match[1]);
  if (n <= 0) return undefined;
  return n * UNIT_MS[match[2]!.toLowerCase() as keyof typeof UNIT_MS];
}

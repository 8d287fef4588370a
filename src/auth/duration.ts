/** `--expires 30d`-style durations: a positive integer and one unit (s, m, h, d, w), at most 100 years. */
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/**
 * Beyond this a date leaves years 0000–9999 (`999999w` from now is year 21192, written `+021192-…`), which
 * ISO 8601 parsers such as jq's and Python's refuse: no key expiry or report window needs more.
 */
const MAX_DURATION_MS = 100 * 365 * UNIT_MS.d;

export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,6})\s*([smhdw])$/i.exec(text.trim());
  if (!match) return undefined;
  const n = Number(match[1]);
  const ms = n * UNIT_MS[match[2]!.toLowerCase() as keyof typeof UNIT_MS];
  return n <= 0 || ms > MAX_DURATION_MS ? undefined : ms;
}

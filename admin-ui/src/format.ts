/** Number and time formats shared by the sections. */
/** Cents for sums, more digits for the fractions of a cent one request costs. */
export const usd = (n: number | null | undefined) =>
  n == null ? '—' : `$${n.toFixed(n === 0 || n >= 1 ? 2 : n >= 0.01 ? 4 : 6)}`;
export const int = (n: number | null | undefined) =>
  n == null ? '—' : Math.round(n).toLocaleString('en-US');
export const time = (ms: number) => new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
export const day = (iso: string | null) => (iso ? iso.slice(0, 10) : '—');
export function text(value: unknown): string {
  if (value === null || value === undefined) return '—';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

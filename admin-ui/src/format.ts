/** Number and time formats shared by the sections. */
export const usd = (n: number | null | undefined) =>
  n == null ? '—' : `$${n.toFixed(n < 1 && n > 0 ? 4 : 2)}`;
export const int = (n: number | null | undefined) =>
  n == null ? '—' : Math.round(n).toLocaleString('en-US');
export const time = (ms: number) => new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
export const day = (iso: string | null) => (iso ? iso.slice(0, 10) : '—');
export function text(value: unknown): string {
  if (value === null || value === undefined) return '—';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * Bedrock document names may hold only ASCII letters and digits, single spaces, hyphens, parentheses
 * and square brackets, 1–200 characters, and must be unique within a request (it rejects "résumé",
 * "a&b", tabs and double spaces). Anthropic titles are free text, so each title is folded into that
 * alphabet, and a request-wide namer hands out unique names.
 */

const MAX_LENGTH = 200;

/** A Bedrock-valid rendering of a title, or '' when nothing of it survives. */
export function sanitizeDocumentName(title: string): string {
  return (
    title
      // Keep the base letter of accented characters (é → e) rather than losing it.
      .normalize('NFKD')
      .replace(/\p{M}/gu, '')
      .replace(/[^A-Za-z0-9 \-()[\]]/g, ' ')
      .replace(/ {2,}/g, ' ')
      .trim()
      .slice(0, MAX_LENGTH)
      .trim()
  );
}

/** Hands out unique, valid document names for one request. */
export class DocumentNames {
  readonly #used = new Set<string>();
  #generated = 0;

  /** A name for a document with this title; untitled documents get `document-N`. */
  next(title?: string | null): string {
    const base = sanitizeDocumentName(title ?? '') || `document-${++this.#generated}`;
    let name = base;
    for (let n = 2; this.#used.has(name.toLowerCase()); n++) {
      const suffix = ` (${n})`;
      name = base.slice(0, MAX_LENGTH - suffix.length).trimEnd() + suffix;
    }
    this.#used.add(name.toLowerCase());
    return name;
  }
}

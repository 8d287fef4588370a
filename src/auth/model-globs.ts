/**
 * `--models` allow-lists: comma-separated globs (`*` any run, `?` one character), case-insensitive.
 * Matched without regexes: a glob compiled to `.*a.*b` backtracks polynomially on a long model name,
 * while the greedy matcher below is O(name × glob) and globs are short (admins write them).
 */

/**
 * Classic wildcard matching: on a mismatch, retry from the last `*`, letting it swallow one more
 * character. Earlier stars never need revisiting, so each name position is visited once per glob char.
 */
export function globMatches(glob: string, name: string): boolean {
  const g = glob.toLowerCase();
  const n = name.toLowerCase();
  let gi = 0;
  let ni = 0;
  let star = -1;
  let starNi = 0;
  while (ni < n.length) {
    const c = g[gi];
    if (c === '*') {
      star = gi++;
      starNi = ni;
    } else if (c !== undefined && (c === '?' || c === n[ni])) {
      gi++;
      ni++;
    } else if (star !== -1) {
      gi = star + 1;
      ni = ++starNi;
    } else {
      return false;
    }
  }
  while (g[gi] === '*') gi++;
  return gi === g.length;
}

export function parseModelGlobs(text: string): string[] {
  return text
    .split(',')
    .map((glob) => glob.trim())
    .filter((glob) => glob !== '');
}

/** True when any glob matches any of the names a model goes by (client name, Bedrock ids). */
export function modelAllowed(globs: readonly string[] | undefined, names: readonly string[]): boolean {
  if (!globs || globs.length === 0) return true;
  return names.some((name) => globs.some((glob) => globMatches(glob, name)));
}

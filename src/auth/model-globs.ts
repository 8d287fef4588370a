/** `--models` allow-lists: comma-separated globs (`*` any run, `?` one character), case-insensitive. */

function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
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
  const patterns = globs.map(globToRegExp);
  return names.some((name) => patterns.some((pattern) => pattern.test(name)));
}

/** `--models` allow-lists: comma-separated globs (`*` any run, `?` one character), case-insensitive. */

function compileGlob(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** Compiled globs, so a request does not build its key's regexes again (bounded: globs come from admins). */
const compiled = new Map<string, RegExp>();

function globToRegExp(glob: string): RegExp {
  let pattern = compiled.get(glob);
  if (!pattern) {
    if (compiled.size >= 1_000) compiled.clear();
    pattern = compileGlob(glob);
    compiled.set(glob, pattern);
  }
  return pattern;
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

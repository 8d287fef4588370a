/**
 * NO_COLOR (https://no-color.org) for what ink draws: ink styles with chalk, which does not read it but
 * fixes its colour level from FORCE_COLOR when first loaded. FORCE_COLOR=0 while the views load turns off
 * colours and styles alike; it is removed again, so nothing this process starts inherits it.
 */
export async function loadHonouringNoColor<T>(load: () => Promise<T>, env = process.env): Promise<T> {
  if (!env.NO_COLOR || env.FORCE_COLOR !== undefined) return load();
  env.FORCE_COLOR = '0';
  try {
    return await load();
  } finally {
    delete env.FORCE_COLOR;
  }
}

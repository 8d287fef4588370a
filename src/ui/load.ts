/**
 * The one door to ink and react: a dynamic import, so the CLI loads them only when it draws on a
 * terminal. The single-executable build (scripts/build-binary.ts) replaces this module with one that
 * imports the same views from an ESM bundle embedded in the executable.
 */
import { loadHonouringNoColor } from './no-color.ts';

export type Views = typeof import('./views.ts');

export function loadViews(): Promise<Views> {
  return loadHonouringNoColor(() => import('./views.ts'));
}

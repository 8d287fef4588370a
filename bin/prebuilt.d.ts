/** See bin/prebuilt.js. */
export function freshPrebuilt(root: string, env?: Record<string, string | undefined>): string | undefined;

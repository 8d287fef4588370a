/**
 * The address cannot be bound (in use, no permission, not on this host): a failure of the environment,
 * not of the settings, so `serve` exits 1 rather than 2. Its own light module: the CLI checks for it
 * without loading the server.
 */
export class ListenError extends Error {
  override name = 'ListenError';
}

/** Shared by the web tools' tests: the config that points them at the fake search provider, and the fault they expect. */
import { expect } from 'vitest';
import type { FakeSearch } from '../../../test/fakes/search-provider.ts';
import type { WebToolsConfig } from './index.ts';
import { WebToolError } from './types.ts';

/** Web tools on the fake search provider (its URL and key), no loopback page fetches; `over` wins. */
export function fakeSearchConfig(fake: FakeSearch, over: Partial<WebToolsConfig> = {}): WebToolsConfig {
  return {
    webSearchProvider: 'brave',
    webSearchApiKey: fake.apiKey,
    webSearchUrl: fake.url,
    webSearchTimeoutMs: 2_000,
    webSearchMaxResults: 5,
    webSearchSiteOperators: false,
    webFetchTimeoutMs: 1_000,
    webFetchMaxBytes: 1_000_000,
    webFetchAllowLoopbackForTests: false,
    webFetchVia: 'direct',
    ...over,
  };
}

/** The WebToolError the promise rejects with; the test fails if it resolves or rejects with anything else. */
export async function webToolFailure(promise: Promise<unknown>): Promise<WebToolError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WebToolError);
  return err as WebToolError;
}

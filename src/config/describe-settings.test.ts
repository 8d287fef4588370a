import { describe, expect, it } from 'vitest';
import { maskUrlCredentials } from './describe-settings.ts';

describe('maskUrlCredentials', () => {
  it.each([
    ['https://otel.example.com:4318', 'https://otel.example.com:4318'],
    ['http://127.0.0.1:4318/', 'http://127.0.0.1:4318/'],
    ['https://u:p@otel.example.com/v1/traces', 'https://<redacted>@otel.example.com/v1/traces'],
    ['http://user@otel', 'http://<redacted>@otel'],
    ['https://otel.example.com?api_key=s3cret', 'https://otel.example.com?api_key=<redacted>'],
    ['https://h/x?token=a&token=b&region=eu', 'https://h/x?token=<redacted>&region=<redacted>'],
    ['https://h/x#access_token=abc', 'https://h/x#<redacted>'],
    ['not a url', 'not a url'],
    ['us-east-1', 'us-east-1'],
  ])('%s → %s', (input, masked) => {
    expect(maskUrlCredentials(input)).toBe(masked);
  });
});

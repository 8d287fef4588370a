/**
 * Sign-in tokens of `abproxy login`, per gateway URL, in ABPROXY_HOME/credentials.json (mode 0600,
 * written whole through a temporary file so a crash never leaves half a file).
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface GatewayCredentials {
  tokenEndpoint: string;
  revocationEndpoint?: string;
  accessToken: string;
  refreshToken?: string;
  /** ISO-8601. */
  expiresAt: string;
  email?: string;
}

export type CredentialsFile = Record<string, GatewayCredentials>;

export function credentialsPath(home: string): string {
  return join(home, 'credentials.json');
}

export function readCredentials(home: string): CredentialsFile {
  try {
    const parsed = JSON.parse(readFileSync(credentialsPath(home), 'utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as CredentialsFile)
      : {};
  } catch {
    return {};
  }
}

export function writeCredentials(home: string, file: CredentialsFile): void {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const path = credentialsPath(home);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

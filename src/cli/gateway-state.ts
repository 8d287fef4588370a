/**
 * The running-gateway state file (ABPROXY_HOME/gateway.json, mode 0600): `serve` writes it when it
 * listens and removes it when it stops, so `abproxy claude` and `doctor` can find a gateway that is
 * already up. A state file is only trusted after its process is alive and whatever answers at its URL
 * proves it holds the file's instance secret (a challenge on GET /health, see server/routes/health.ts): a stale
 * file and a port someone else took since must never get a key.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHALLENGE_HEADER, instanceProof, PROOF_HEADER } from '../server/routes/health.ts';
import { processAlive } from '../usage/spool.ts';

export interface GatewayState {
  url: string;
  pid: number;
  /** ISO time the gateway started listening. */
  started: string;
  /** Random per-process secret the gateway proves it knows (absent in files older gateways wrote). */
  secret?: string;
}

export function newInstanceSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function stateFile(home: string): string {
  return join(home, 'gateway.json');
}

export function writeGatewayState(home: string, state: GatewayState): void {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  // Write then rename, so a reader never sees half a file.
  const temp = `${stateFile(home)}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(state)}\n`, { mode: 0o600 });
  renameSync(temp, stateFile(home));
}

export function readGatewayState(home: string): GatewayState | undefined {
  try {
    const parsed = JSON.parse(readFileSync(stateFile(home), 'utf8')) as Partial<GatewayState>;
    if (typeof parsed.url !== 'string' || typeof parsed.pid !== 'number') return undefined;
    return {
      url: parsed.url,
      pid: parsed.pid,
      started: String(parsed.started ?? ''),
      ...(typeof parsed.secret === 'string' && parsed.secret !== '' ? { secret: parsed.secret } : {}),
    };
  } catch {
    return undefined;
  }
}

/** Removes the state file if it still describes the process `pid` (a newer gateway may own it now). */
export function clearGatewayState(home: string, pid: number = process.pid): void {
  if (readGatewayState(home)?.pid === pid) rmSync(stateFile(home), { force: true });
}

/** Whether what answers at `url` proves, within `timeoutMs`, that it holds `secret`. Sends no key. */
export async function provesSecret(url: string, secret: string, timeoutMs = 1000): Promise<boolean> {
  const nonce = randomBytes(24).toString('base64url');
  try {
    const res = await fetch(`${url}/health`, {
      headers: { [CHALLENGE_HEADER]: nonce },
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    const proof = Buffer.from(res.headers.get(PROOF_HEADER) ?? '');
    const expected = Buffer.from(instanceProof(secret, nonce));
    return res.status === 200 && proof.length === expected.length && timingSafeEqual(proof, expected);
  } catch {
    return false;
  }
}

/** The gateway named by the state file, if its process lives and it proves the file's secret. */
export async function findRunningGateway(home: string): Promise<GatewayState | undefined> {
  const state = readGatewayState(home);
  if (!state?.secret || !processAlive(state.pid)) return undefined;
  return (await provesSecret(state.url, state.secret)) ? state : undefined;
}

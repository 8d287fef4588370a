/**
 * The running-gateway state file (ABPROXY_HOME/gateway.json): `serve` writes it when it listens and
 * removes it when it stops, so `abproxy claude` and `doctor` can find a gateway that is already up.
 * A state file is only trusted after its process is alive and its URL answers GET /health.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface GatewayState {
  url: string;
  pid: number;
  /** ISO time the gateway started listening. */
  started: string;
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
    return { url: parsed.url, pid: parsed.pid, started: String(parsed.started ?? '') };
  } catch {
    return undefined;
  }
}

/** Removes the state file if it still describes the process `pid` (a newer gateway may own it now). */
export function clearGatewayState(home: string, pid: number = process.pid): void {
  if (readGatewayState(home)?.pid === pid) rmSync(stateFile(home), { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether `url` answers GET /health with 200 within `timeoutMs`. */
export async function answersHealth(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** The gateway named by the state file, if its process lives and it answers /health. */
export async function findRunningGateway(home: string): Promise<GatewayState | undefined> {
  const state = readGatewayState(home);
  if (!state || !alive(state.pid)) return undefined;
  return (await answersHealth(state.url)) ? state : undefined;
}

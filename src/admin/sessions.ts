/**
 * Admin page sessions, kept in this process's memory: a random id in an HttpOnly cookie, a CSRF token
 * the page sends back on every mutation, and an absolute expiry. A restart logs everyone out.
 */
import { randomBytes } from 'node:crypto';

export interface AdminSession {
  id: string;
  csrf: string;
  expiresAt: number;
}

export interface SessionStoreOptions {
  ttlMs?: number;
  /** Oldest sessions are dropped beyond this many (a flood of logins cannot grow memory without end). */
  maxSessions?: number;
  now?: () => number;
}

export const SESSION_TTL_MS = 8 * 3_600_000;

const token = () => randomBytes(32).toString('base64url');

export class SessionStore {
  readonly #sessions = new Map<string, AdminSession>();
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;

  constructor({ ttlMs = SESSION_TTL_MS, maxSessions = 1_000, now = Date.now }: SessionStoreOptions = {}) {
    this.#ttlMs = ttlMs;
    this.#max = maxSessions;
    this.#now = now;
  }

  create(): AdminSession {
    const session = { id: token(), csrf: token(), expiresAt: this.#now() + this.#ttlMs };
    if (this.#sessions.size >= this.#max) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#sessions.delete(oldest);
    }
    this.#sessions.set(session.id, session);
    return session;
  }

  get(id: string | undefined): AdminSession | undefined {
    if (!id) return undefined;
    const session = this.#sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= this.#now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    return session;
  }

  delete(id: string): void {
    this.#sessions.delete(id);
  }
}

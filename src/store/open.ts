/**
 * Picks and opens the Store the settings ask for. The implementations are imported on demand: the
 * SQLite addon and the DynamoDB SDK are heavy, and commands like `--version` must not pay for them.
 */
import { join } from 'node:path';
import type { Settings } from '../config/config.ts';
import type { Store } from './types.ts';

export type StoreSettings = Pick<Settings, 'mode' | 'home' | 'dbFile' | 'tablePrefix' | 'region'>;

export function sqlitePath(settings: Pick<Settings, 'home' | 'dbFile'>): string {
  return settings.dbFile ?? join(settings.home, 'abproxy.db');
}

export async function openStore(settings: StoreSettings): Promise<Store> {
  switch (settings.mode) {
    case 'solo': {
      const { SqliteStore } = await import('./sqlite.ts');
      return new SqliteStore(sqlitePath(settings));
    }
    case 'team': {
      const { DynamoStore } = await import('./dynamodb.ts');
      return new DynamoStore({ tablePrefix: settings.tablePrefix, region: settings.region });
    }
    default: {
      const unknownMode: never = settings.mode;
      throw new Error(`unknown storage mode ${String(unknownMode)}`);
    }
  }
}

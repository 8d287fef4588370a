/** Picks and opens the Store the settings ask for. */
import { join } from 'node:path';
import type { Settings } from '../config/config.ts';
import { DynamoStore } from './dynamodb.ts';
import { SqliteStore } from './sqlite.ts';
import type { Store } from './types.ts';

export type StoreSettings = Pick<Settings, 'mode' | 'home' | 'dbFile' | 'tablePrefix' | 'region'>;

export function sqlitePath(settings: Pick<Settings, 'home' | 'dbFile'>): string {
  return settings.dbFile ?? join(settings.home, 'abproxy.db');
}

export function openStore(settings: StoreSettings): Store {
  switch (settings.mode) {
    case 'solo':
      return new SqliteStore(sqlitePath(settings));
    case 'team':
      return new DynamoStore({ tablePrefix: settings.tablePrefix, region: settings.region });
    default: {
      const unknownMode: never = settings.mode;
      throw new Error(`unknown storage mode ${String(unknownMode)}`);
    }
  }
}

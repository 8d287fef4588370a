/**
 * The DynamoDB tables of team mode, defined once as plain data: `abproxy tables setup` creates them
 * from this, and the CDK stack (deploy/) imports it too, so both always agree. No SDK imports here.
 */

export type TableRole = 'keys' | 'usage' | 'limits' | 'signin';

export interface TableSchema {
  role: TableRole;
  tableName: string;
  /** DynamoDB key schema: partition key and optional sort key, all string attributes. */
  partitionKey: string;
  sortKey?: string;
  /** Global secondary indexes (partition key only, all attributes projected). */
  indexes: ReadonlyArray<{ indexName: string; partitionKey: string }>;
  /** Number attribute (epoch seconds) after which DynamoDB deletes the item; undefined: no TTL. */
  ttlAttribute?: string;
  billingMode: 'PAY_PER_REQUEST';
}

export const DEFAULT_TABLE_PREFIX = 'abproxy';
export const KEYS_BY_ID_INDEX = 'by-id';
export const KEYS_BY_PREFIX_INDEX = 'by-prefix';
export const TTL_ATTRIBUTE = 'ttl';

export function tableName(prefix: string, role: TableRole): string {
  return `${prefix}-${role}`;
}

/** Table names allow [A-Za-z0-9_.-], 3-255 characters; the prefix leaves room for `-limits`. */
export function checkTablePrefix(prefix: string): string | undefined {
  return /^[A-Za-z0-9_.-]{1,200}$/.test(prefix)
    ? undefined
    : `table prefix '${prefix}': use 1-200 of A-Z a-z 0-9 _ . -`;
}

export function tableSchemas(prefix: string): TableSchema[] {
  return [
    {
      // Authentication reads a key by the hash of its secret (strongly consistent GetItem);
      // admins name keys by id or display prefix through the two indexes.
      role: 'keys',
      tableName: tableName(prefix, 'keys'),
      partitionKey: 'hash',
      indexes: [
        { indexName: KEYS_BY_ID_INDEX, partitionKey: 'id' },
        { indexName: KEYS_BY_PREFIX_INDEX, partitionKey: 'prefix' },
      ],
      billingMode: 'PAY_PER_REQUEST',
    },
    {
      // One item per request, grouped by key and ordered by time (`sk` = ISO time # record id).
      role: 'usage',
      tableName: tableName(prefix, 'usage'),
      partitionKey: 'keyId',
      sortKey: 'sk',
      indexes: [],
      ttlAttribute: TTL_ATTRIBUTE,
      billingMode: 'PAY_PER_REQUEST',
    },
    {
      // Shared counters (rate windows, budgets); each expires with its window.
      role: 'limits',
      tableName: tableName(prefix, 'limits'),
      partitionKey: 'name',
      indexes: [],
      ttlAttribute: TTL_ATTRIBUTE,
      billingMode: 'PAY_PER_REQUEST',
    },
    {
      // Sign-in (issue 16), one item kind per `pk` prefix: `principal#<id>`, `grant#<user code>`,
      // `session#<id>`, `token#<hash>`. Grants, sessions and tokens expire through TTL.
      role: 'signin',
      tableName: tableName(prefix, 'signin'),
      partitionKey: 'pk',
      indexes: [],
      ttlAttribute: TTL_ATTRIBUTE,
      billingMode: 'PAY_PER_REQUEST',
    },
  ];
}

/** The CreateTable input of a schema (SDK-shaped, but plain data). */
export function createTableInput(schema: TableSchema) {
  const attributes = new Set([schema.partitionKey, ...(schema.sortKey ? [schema.sortKey] : [])]);
  for (const index of schema.indexes) attributes.add(index.partitionKey);
  return {
    TableName: schema.tableName,
    BillingMode: schema.billingMode,
    AttributeDefinitions: [...attributes].map((name) => ({
      AttributeName: name,
      AttributeType: 'S' as const,
    })),
    KeySchema: [
      { AttributeName: schema.partitionKey, KeyType: 'HASH' as const },
      ...(schema.sortKey ? [{ AttributeName: schema.sortKey, KeyType: 'RANGE' as const }] : []),
    ],
    ...(schema.indexes.length > 0
      ? {
          GlobalSecondaryIndexes: schema.indexes.map((index) => ({
            IndexName: index.indexName,
            KeySchema: [{ AttributeName: index.partitionKey, KeyType: 'HASH' as const }],
            Projection: { ProjectionType: 'ALL' as const },
          })),
        }
      : {}),
  };
}

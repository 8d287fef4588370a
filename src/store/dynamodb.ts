/**
 * Team mode: DynamoDB tables shared by every gateway instance (see schema.ts). Authentication is one
 * strongly consistent GetItem by hash; admin lookups go through the id/prefix indexes; revocation and
 * counters are conditional writes so concurrent instances agree.
 */
import { randomBytes } from 'node:crypto';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  type ScanCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { KEYS_BY_ID_INDEX, KEYS_BY_PREFIX_INDEX, TTL_ATTRIBUTE, tableName, tableSchemas } from './schema.ts';
import {
  AmbiguousKeyError,
  type CappedAdd,
  type DeviceGrant,
  type DeviceGrantState,
  DuplicateKeyError,
  type KeyEdit,
  type KeyRecord,
  type Principal,
  type RevokeResult,
  type RotateResult,
  type Session,
  type Store,
  storeSetupFault,
  type TokenRecord,
  type UpdateResult,
  type UsageQuery,
  type UsageRecord,
  UsageRejectedError,
} from './types.ts';

export interface DynamoStoreOptions {
  tablePrefix: string;
  region: string;
  /** Replaces the client built from region + the SDK's endpoint/credential chain (tests). */
  client?: DynamoDBClient;
}

type Item = Record<string, unknown>;

/** Every item of a Query or Scan, page after page (each page starts where the last one stopped). */
async function allPages(
  page: (
    start: Item | undefined,
  ) => Promise<{ Items?: Item[] | undefined; LastEvaluatedKey?: Item | undefined }>,
): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const answer = await page(start);
    items.push(...(answer.Items ?? []));
    start = answer.LastEvaluatedKey;
  } while (start);
  return items;
}

const KEY_FIELDS = [
  'id',
  'hash',
  'prefix',
  'name',
  'user',
  'serviceTier',
  'models',
  'limits',
  'createdAt',
  'expiresAt',
  'revokedAt',
] as const;

function toRecord(item: Item): KeyRecord {
  const record: Record<string, unknown> = {};
  for (const field of KEY_FIELDS) if (item[field] !== undefined) record[field] = item[field];
  record.limits ??= {};
  return record as unknown as KeyRecord;
}

/**
 * DynamoDB errors that no retry fixes: the request itself is wrong (an item over 400 KB, an empty key
 * attribute, a value it cannot serialize). Throttling, outages and missing tables or permissions (an
 * admin can fix those while records wait) are not in this list.
 */
const PERMANENT_ERRORS = new Set([
  'ValidationException',
  'SerializationException',
  'ItemCollectionSizeLimitExceededException',
]);

/** A failed usage write: UsageRejectedError when no retry fixes it, else the error as it is. */
function usageError(err: unknown): unknown {
  const name = (err as { name?: string }).name ?? '';
  if (!PERMANENT_ERRORS.has(name)) return err;
  return new UsageRejectedError(`DynamoDB refused usage records: ${name}: ${(err as Error).message}`, {
    cause: err,
  });
}

/** The item of a sign-in record: its `pk`, and a TTL from its expiry when it has one. */
function signinItem(pk: string, record: object): Item {
  const expiresAt = (record as { expiresAt?: string }).expiresAt;
  return {
    ...record,
    pk,
    ...(expiresAt ? { [TTL_ATTRIBUTE]: Math.ceil(Date.parse(expiresAt) / 1000) } : {}),
  };
}

function fromSigninItem<T>(item: Item | undefined): T | undefined {
  if (!item) return undefined;
  const { pk: _pk, [TTL_ATTRIBUTE]: _ttl, ...record } = item;
  return record as T;
}

function isConditionFailure(err: unknown): boolean {
  return (
    err instanceof ConditionalCheckFailedException ||
    (err as { name?: string }).name === 'ConditionalCheckFailedException'
  );
}

/**
 * DynamoDB answers in milliseconds. One that stops answering with its connection still up (frozen, a
 * network black hole) must fail the call rather than hold it: the SDK sets no timeout by default, so a
 * key lookup, a limit lease, the drain on SIGTERM and every CLI command waited without end. A failed
 * store call has its fallback (limits kept locally, usage kept in the spool, a 529 for a key lookup).
 */
export function dynamoClient(region: string): DynamoDBClient {
  const client = new DynamoDBClient({
    region,
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 4_000, throwOnRequestTimeout: true },
  });
  failFastWhileUnanswered(client);
  return client;
}

/** How long calls fail at once after DynamoDB let one time out, before one call tries it again. */
const UNANSWERED_QUIET_MS = 2_000;

/**
 * A request makes several store calls one after another (key lookup, budget, concurrency and rate
 * leases), each with its fallback: against a DynamoDB that stopped answering, each waited out its own
 * timeouts, 8 s apiece, so one request took 30 s and more. Once a call timed out, the others fail at
 * once (to their fallbacks) while a single call at a time, after a short quiet, looks whether it is back.
 */
function failFastWhileUnanswered(client: DynamoDBClient, quietMs = UNANSWERED_QUIET_MS): void {
  let down = false;
  let quietUntil = 0;
  let probing = false;
  client.middlewareStack.add(
    (next) => async (args) => {
      if (down && (probing || Date.now() < quietUntil)) {
        throw Object.assign(new Error('DynamoDB did not answer a call just before; not asked again yet'), {
          name: 'TimeoutError',
        });
      }
      const probe = down;
      if (probe) probing = true;
      try {
        const out = await next(args);
        down = false;
        return out;
      } catch (err) {
        down = (err as { name?: string }).name === 'TimeoutError';
        if (down) quietUntil = Date.now() + quietMs;
        throw err;
      } finally {
        if (probe) probing = false;
      }
    },
    { step: 'initialize', name: 'failFastWhileUnanswered' },
  );
}

/**
 * Names the operation (as IAM does: dynamodb:GetItem) and table on a failed call's error: an
 * AccessDeniedException says neither when the SDK reports it, and the operator needs both to fix it.
 */
function nameFailedOperations(client: DynamoDBClient): void {
  const name = 'nameFailedOperations';
  if (client.middlewareStack.identify().some((entry) => entry.startsWith(name))) return;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        const input = args.input as { TableName?: string; RequestItems?: object };
        if (err !== null && typeof err === 'object') {
          Object.assign(err, {
            storeAction: `dynamodb:${String(context.commandName).replace(/Command$/, '')}`,
            storeTable: input.TableName ?? Object.keys(input.RequestItems ?? {})[0],
          });
        }
        throw err;
      }
    },
    { step: 'initialize', name },
  );
}

export class DynamoStore implements Store {
  readonly mode = 'team';
  readonly #doc: DynamoDBDocumentClient;
  readonly #client: DynamoDBClient;
  readonly #prefix: string;
  readonly #owned: DynamoDBClient | undefined;
  readonly #keys: string;
  readonly #usage: string;
  readonly #limits: string;
  readonly #signin: string;
  /** This process among the instances writing the same counters (see addToCounter's opId). */
  readonly #process = randomBytes(6).toString('hex');

  constructor({ tablePrefix, region, client }: DynamoStoreOptions) {
    this.#owned = client ? undefined : dynamoClient(region);
    this.#client = client ?? this.#owned!;
    nameFailedOperations(this.#client);
    this.#prefix = tablePrefix;
    this.#doc = DynamoDBDocumentClient.from(this.#client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.#keys = tableName(tablePrefix, 'keys');
    this.#usage = tableName(tablePrefix, 'usage');
    this.#limits = tableName(tablePrefix, 'limits');
    this.#signin = tableName(tablePrefix, 'signin');
  }
  /** Tables missing or made for something else (serve says so at start, rather than fail each call). */
  async tableProblems(): Promise<string[]> {
    const { tableProblems } = await import('./dynamodb-setup.ts');
    return tableProblems(this.#client, tableSchemas(this.#prefix));
  }

  /**
   * The calls `serve` makes to serve requests (key lookups, usage records, limit counters; with `signin`,
   * sign-in's), each made once on a probe item and left as it was: writes on a condition that fails, the
   * delete of an item that is not there. A refused one is a problem (DescribeTable and Scan passing said
   * nothing about them).
   */
  async accessProblems({ signin = false }: { signin?: boolean } = {}): Promise<string[]> {
    const probe = 'abproxy-doctor-probe';
    const absent = (attribute: string) => ({
      ConditionExpression: 'attribute_exists(#k)',
      ExpressionAttributeNames: { '#k': attribute },
    });
    const calls = [
      () =>
        this.#doc.send(new GetCommand({ TableName: this.#keys, Key: { hash: probe }, ConsistentRead: true })),
      () => this.#doc.send(new ScanCommand({ TableName: this.#keys, Limit: 1, Select: 'COUNT' })),
      () =>
        this.#doc.send(
          new PutCommand({ TableName: this.#usage, Item: { keyId: probe, sk: probe }, ...absent('sk') }),
        ),
      () =>
        this.#doc.send(
          new BatchWriteCommand({
            RequestItems: { [this.#usage]: [{ DeleteRequest: { Key: { keyId: probe, sk: probe } } }] },
          }),
        ),
      () =>
        this.#doc.send(
          new UpdateCommand({
            TableName: this.#limits,
            Key: { name: probe },
            UpdateExpression: 'SET #v = :v',
            ExpressionAttributeValues: { ':v': 0 },
            ...absent('name'),
            ExpressionAttributeNames: { '#k': 'name', '#v': 'value' },
          }),
        ),
      () =>
        this.#doc.send(new PutCommand({ TableName: this.#limits, Item: { name: probe }, ...absent('name') })),
    ];
    if (signin) {
      calls.push(
        () =>
          this.#doc.send(
            new GetCommand({ TableName: this.#signin, Key: { pk: probe }, ConsistentRead: true }),
          ),
        // Checking a device code reads its address's wrong-code count (readCounter).
        () =>
          this.#doc.send(
            new GetCommand({ TableName: this.#limits, Key: { name: probe }, ConsistentRead: true }),
          ),
        () =>
          this.#doc.send(new PutCommand({ TableName: this.#signin, Item: { pk: probe }, ...absent('pk') })),
        () =>
          this.#doc.send(
            new UpdateCommand({
              TableName: this.#signin,
              Key: { pk: probe },
              UpdateExpression: 'SET #u = :u',
              ExpressionAttributeValues: { ':u': 'probe' },
              ...absent('pk'),
              ExpressionAttributeNames: { '#k': 'pk', '#u': 'usedAt' },
            }),
          ),
      );
    }
    const problems: string[] = [];
    for (const call of calls) {
      try {
        await call();
      } catch (err) {
        if (isConditionFailure(err)) continue;
        const fault = storeSetupFault(err);
        if (!fault) throw err;
        problems.push(`${fault.action} on ${fault.table}: ${fault.code}`);
      }
    }
    return problems;
  }

  async #queryAll(input: QueryCommandInput): Promise<Item[]> {
    return allPages((start) => this.#doc.send(new QueryCommand({ ...input, ExclusiveStartKey: start })));
  }

  async #scanAll(input: ScanCommandInput): Promise<Item[]> {
    return allPages((start) => this.#doc.send(new ScanCommand({ ...input, ExclusiveStartKey: start })));
  }

  async #byIndex(indexName: string, attribute: string, value: string): Promise<Item[]> {
    return this.#queryAll({
      TableName: this.#keys,
      IndexName: indexName,
      KeyConditionExpression: '#a = :v',
      ExpressionAttributeNames: { '#a': attribute },
      ExpressionAttributeValues: { ':v': value },
    });
  }

  async createKey(record: KeyRecord): Promise<void> {
    if ((await this.#byIndex(KEYS_BY_ID_INDEX, 'id', record.id)).length > 0) {
      throw new DuplicateKeyError(`key id ${record.id} exists already`);
    }
    try {
      await this.#doc.send(
        new PutCommand({
          TableName: this.#keys,
          Item: { ...record },
          ConditionExpression: 'attribute_not_exists(#h)',
          ExpressionAttributeNames: { '#h': 'hash' },
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) throw new DuplicateKeyError('a key with this secret exists already');
      throw err;
    }
  }

  async findKeyByHash(hash: string): Promise<KeyRecord | undefined> {
    const out = await this.#doc.send(
      new GetCommand({ TableName: this.#keys, Key: { hash }, ConsistentRead: true }),
    );
    return out.Item ? toRecord(out.Item) : undefined;
  }

  async getKey(ref: string): Promise<KeyRecord | undefined> {
    if (ref === '') return undefined;
    const byId = await this.#byIndex(KEYS_BY_ID_INDEX, 'id', ref);
    if (byId[0]) return toRecord(byId[0]);
    let matches = await this.#byIndex(KEYS_BY_PREFIX_INDEX, 'prefix', ref);
    if (matches.length === 0) {
      // A shorter prefix than the stored one: the keys table is small, a filtered scan is fine.
      matches = await this.#scanAll({
        TableName: this.#keys,
        FilterExpression: 'begins_with(#p, :p)',
        ExpressionAttributeNames: { '#p': 'prefix' },
        ExpressionAttributeValues: { ':p': ref },
      });
    }
    if (matches.length > 1) {
      throw new AmbiguousKeyError(
        ref,
        matches.map((item) => String(item.id)),
      );
    }
    return matches[0] ? toRecord(matches[0]) : undefined;
  }

  async listKeys(): Promise<KeyRecord[]> {
    const records = (await this.#scanAll({ TableName: this.#keys })).map(toRecord);
    return records.sort((a, b) =>
      a.createdAt === b.createdAt ? a.id.localeCompare(b.id) : a.createdAt.localeCompare(b.createdAt),
    );
  }

  async hasKeys(): Promise<boolean> {
    const page = await this.#doc.send(new ScanCommand({ TableName: this.#keys, Limit: 1, Select: 'COUNT' }));
    return (page.Count ?? 0) > 0 || page.LastEvaluatedKey !== undefined;
  }

  async revokeKey(id: string, at: string): Promise<RevokeResult> {
    const [item] = await this.#byIndex(KEYS_BY_ID_INDEX, 'id', id);
    if (!item) return 'not-found';
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.#keys,
          Key: { hash: item.hash },
          UpdateExpression: 'SET #r = :at',
          ConditionExpression: 'attribute_exists(#h) AND attribute_not_exists(#r)',
          ExpressionAttributeNames: { '#r': 'revokedAt', '#h': 'hash' },
          ExpressionAttributeValues: { ':at': at },
        }),
      );
      return 'revoked';
    } catch (err) {
      if (isConditionFailure(err)) return 'already-revoked';
      throw err;
    }
  }

  async updateKey(id: string, edit: KeyEdit): Promise<UpdateResult> {
    const [item] = await this.#byIndex(KEYS_BY_ID_INDEX, 'id', id);
    if (!item) return 'not-found';
    const set: string[] = ['#limits = :limits'];
    const remove: string[] = [];
    const names: Record<string, string> = { '#h': 'hash', '#limits': 'limits' };
    const values: Record<string, unknown> = { ':limits': edit.limits };
    for (const field of ['name', 'user', 'serviceTier', 'models'] as const) {
      names[`#${field}`] = field;
      if (edit[field] === undefined) remove.push(`#${field}`);
      else {
        set.push(`#${field} = :${field}`);
        values[`:${field}`] = edit[field];
      }
    }
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.#keys,
          Key: { hash: item.hash },
          UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
          ConditionExpression: 'attribute_exists(#h)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return 'updated';
    } catch (err) {
      if (isConditionFailure(err)) return 'not-found';
      throw err;
    }
  }

  async recordUsage(records: readonly UsageRecord[]): Promise<void> {
    // Status 0 is a call's `open` line replayed after its gateway died. The call may have ended and been
    // stored from a later spool file: that record must stay (as SQLite's INSERT OR IGNORE keeps it), so
    // these are put one by one on condition; BatchWriteItem takes no condition.
    for (const record of records) {
      if (record.status !== 0) continue;
      try {
        await this.#doc.send(
          new PutCommand({
            TableName: this.#usage,
            Item: { ...record, sk: `${record.at}#${record.id}` },
            ConditionExpression: 'attribute_not_exists(sk)',
          }),
        );
      } catch (err) {
        if (!isConditionFailure(err)) throw usageError(err);
      }
    }
    const finished = records.filter((record) => record.status !== 0);
    // BatchWriteItem takes 25 items; the sort key holds the record id, so a replay overwrites itself.
    for (let i = 0; i < finished.length; i += 25) {
      let pending: Record<string, Array<{ PutRequest: { Item: Item } }>> | undefined = {
        [this.#usage]: finished.slice(i, i + 25).map((record) => ({
          PutRequest: { Item: { ...record, sk: `${record.at}#${record.id}` } },
        })),
      };
      for (let attempt = 0; pending && Object.keys(pending).length > 0; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** Math.min(attempt, 6)));
        if (attempt > 8) throw new Error('DynamoDB left usage records unprocessed after retries');
        let out: BatchWriteCommandOutput;
        try {
          out = await this.#doc.send(new BatchWriteCommand({ RequestItems: pending }));
        } catch (err) {
          throw usageError(err);
        }
        pending = out.UnprocessedItems as typeof pending;
      }
    }
  }

  async listUsage({ since, until, keyId, sessionId, agentId }: UsageQuery): Promise<UsageRecord[]> {
    // `sk` is `<ISO time>#<id>`; '#' sorts before every digit, so `< until` excludes that instant.
    const end = until ?? '9999';
    // Session and agent are filters on the time-bounded read, not a GSI: a report reads a window of
    // records anyway (the scan or key query below), the filter only saves the transfer, and an index
    // would double the write cost of every usage record for a lookup an operator runs by hand.
    const filters: string[] = [];
    const values: Record<string, string> = { ':s': since, ':u': end };
    if (sessionId !== undefined) {
      filters.push('sessionId = :session');
      values[':session'] = sessionId;
    }
    if (agentId !== undefined) {
      filters.push('agentId = :agent');
      values[':agent'] = agentId;
    }
    const items = keyId
      ? await this.#queryAll({
          TableName: this.#usage,
          KeyConditionExpression: 'keyId = :k AND sk BETWEEN :s AND :u',
          ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
          ExpressionAttributeValues: { ':k': keyId, ...values },
        })
      : await this.#scanAll({
          TableName: this.#usage,
          FilterExpression: ['sk BETWEEN :s AND :u', ...filters].join(' AND '),
          ExpressionAttributeValues: values,
        });
    const records = items.map((item) => {
      const { sk: _sk, ttl: _ttl, ...record } = item as Record<string, unknown>;
      return record as unknown as UsageRecord;
    });
    return records
      .filter((record) => until === undefined || record.at < until)
      .sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));
  }

  async addToCounter(name: string, amount: number, expiresAt: number, opId?: string): Promise<number> {
    const ttl = Math.ceil(expiresAt / 1000);
    // The last op of this process on the counter: a timed-out add that did reach DynamoDB, sent again
    // (by the SDK's retry or the caller's), finds its own id there and adds nothing.
    const op = opId === undefined ? undefined : `op_${this.#process}`;
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = Date.now();
      try {
        const out = await this.#doc.send(
          new UpdateCommand({
            TableName: this.#limits,
            Key: { name },
            UpdateExpression: `ADD #v :a SET #e = if_not_exists(#e, :e), #t = if_not_exists(#t, :t)${op ? ', #op = :op' : ''}`,
            ConditionExpression: `(attribute_not_exists(#e) OR #e > :now)${op ? ' AND (attribute_not_exists(#op) OR #op <> :op)' : ''}`,
            ExpressionAttributeNames: {
              '#v': 'value',
              '#e': 'expiresAtMs',
              '#t': TTL_ATTRIBUTE,
              ...(op ? { '#op': op } : {}),
            },
            ExpressionAttributeValues: {
              ':a': amount,
              ':e': expiresAt,
              ':t': ttl,
              ':now': now,
              ...(op ? { ':op': opId } : {}),
            },
            ReturnValues: 'UPDATED_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return Number(out.Attributes?.value);
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        const found = (err as ConditionalCheckFailedException).Item;
        if (op && found?.[op]?.S === opId) return Number(found?.value?.N);
      }
      if (await this.#restartCounter(name, amount, expiresAt, now, op ? { [op]: opId } : undefined))
        return amount;
    }
    throw new Error(`counter ${name}: too much contention`);
  }

  async readCounter(name: string): Promise<number> {
    // Consistent: an add that has just been answered is in what this reads (a throttle reads its count).
    const out = await this.#doc.send(
      new GetCommand({ TableName: this.#limits, Key: { name }, ConsistentRead: true }),
    );
    const item = out.Item as { value?: number; expiresAtMs?: number } | undefined;
    return item && Number(item.expiresAtMs) > Date.now() ? Number(item.value ?? 0) : 0;
  }

  async addToCounterUpTo(
    name: string,
    amount: number,
    cap: number,
    expiresAt: number,
    opId?: string,
  ): Promise<CappedAdd> {
    if (amount > cap) throw new RangeError(`counter ${name}: ${amount} never fits under ${cap}`);
    const ttl = Math.ceil(expiresAt / 1000);
    // As addToCounter's: a take made but answered too late is not made again by its retry (which the
    // cap would refuse, leaving the slot taken by nobody until the counter expires).
    const op = opId === undefined ? undefined : `op_${this.#process}`;
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = Date.now();
      let found: ConditionalCheckFailedException['Item'];
      try {
        const out = await this.#doc.send(
          new UpdateCommand({
            TableName: this.#limits,
            Key: { name },
            UpdateExpression: `ADD #v :a SET #e = if_not_exists(#e, :e), #t = if_not_exists(#t, :t)${op ? ', #op = :op' : ''}`,
            ConditionExpression: `(attribute_not_exists(#e) OR #e > :now) AND (attribute_not_exists(#v) OR #v <= :room)${op ? ' AND (attribute_not_exists(#op) OR #op <> :op)' : ''}`,
            ExpressionAttributeNames: {
              '#v': 'value',
              '#e': 'expiresAtMs',
              '#t': TTL_ATTRIBUTE,
              ...(op ? { '#op': op } : {}),
            },
            ExpressionAttributeValues: {
              ':a': amount,
              ':e': expiresAt,
              ':t': ttl,
              ':now': now,
              ':room': cap - amount,
              ...(op ? { ':op': opId } : {}),
            },
            ReturnValues: 'UPDATED_NEW',
            // The refusal says what the counter holds: no second call to read it.
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { added: true, total: Number(out.Attributes?.value) };
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        found = (err as ConditionalCheckFailedException).Item;
      }
      if (!found) throw new Error(`counter ${name}: the refusal did not return the counter`);
      if (op && found[op]?.S === opId) return { added: true, total: Number(found.value?.N) };
      if (Number(found.expiresAtMs?.N) > now) return { added: false, total: Number(found.value?.N) };
      if (await this.#restartCounter(name, amount, expiresAt, now, op ? { [op]: opId } : undefined))
        return { added: true, total: amount };
    }
    throw new Error(`counter ${name}: too much contention`);
  }

  /**
   * The counter's window is over but DynamoDB has not deleted it yet: starts it again from `amount`
   * (with the op that did, so that its retry finds itself there).
   */
  async #restartCounter(
    name: string,
    amount: number,
    expiresAt: number,
    now: number,
    op: Item | undefined,
  ): Promise<boolean> {
    try {
      await this.#doc.send(
        new PutCommand({
          TableName: this.#limits,
          Item: {
            name,
            value: amount,
            expiresAtMs: expiresAt,
            [TTL_ATTRIBUTE]: Math.ceil(expiresAt / 1000),
            ...op,
          },
          ConditionExpression: '#e <= :now',
          ExpressionAttributeNames: { '#e': 'expiresAtMs' },
          ExpressionAttributeValues: { ':now': now },
        }),
      );
      return true;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return false;
    }
  }

  async #getSignin<T>(pk: string): Promise<T | undefined> {
    const out = await this.#doc.send(
      new GetCommand({ TableName: this.#signin, Key: { pk }, ConsistentRead: true }),
    );
    return fromSigninItem<T>(out.Item);
  }

  async putPrincipal(principal: Principal): Promise<void> {
    await this.#doc.send(
      new PutCommand({ TableName: this.#signin, Item: signinItem(`principal#${principal.id}`, principal) }),
    );
  }

  async getPrincipal(id: string): Promise<Principal | undefined> {
    return this.#getSignin<Principal>(`principal#${id}`);
  }

  async listPrincipals(): Promise<Principal[]> {
    const items = await this.#scanAll({
      TableName: this.#signin,
      FilterExpression: 'begins_with(pk, :p)',
      ExpressionAttributeValues: { ':p': 'principal#' },
    });
    return items
      .map((item) => fromSigninItem<Principal>(item)!)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async setPrincipalDisabled(id: string, at: string | undefined): Promise<boolean> {
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.#signin,
          Key: { pk: `principal#${id}` },
          UpdateExpression: at ? 'SET disabledAt = :at' : 'REMOVE disabledAt',
          ConditionExpression: 'attribute_exists(pk)',
          ...(at ? { ExpressionAttributeValues: { ':at': at } } : {}),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async createDeviceGrant(grant: DeviceGrant): Promise<void> {
    try {
      await this.#doc.send(
        new PutCommand({
          TableName: this.#signin,
          Item: signinItem(`grant#${grant.userCode}`, grant),
          // A user code may be taken again once its grant has expired (TTL deletes lazily).
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
          ExpressionAttributeValues: { ':now': new Date().toISOString() },
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) throw new DuplicateKeyError(`user code ${grant.userCode} is in use`);
      throw err;
    }
  }

  async getDeviceGrant(userCode: string): Promise<DeviceGrant | undefined> {
    return this.#getSignin<DeviceGrant>(`grant#${userCode}`);
  }

  async updateDeviceGrant(
    userCode: string,
    from: DeviceGrantState,
    patch: Partial<DeviceGrant>,
  ): Promise<boolean> {
    const current = await this.getDeviceGrant(userCode);
    if (!current || current.state !== from) return false;
    const now = new Date().toISOString();
    try {
      await this.#doc.send(
        new PutCommand({
          TableName: this.#signin,
          Item: signinItem(`grant#${userCode}`, { ...current, ...patch }),
          // Same state and the same poll/login as read: a concurrent change makes this one lose.
          ConditionExpression:
            '#s = :from AND expiresAt > :now AND deviceCodeHash = :h AND ' +
            (current.lastPolledAt ? 'lastPolledAt = :polled' : 'attribute_not_exists(lastPolledAt)'),
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: {
            ':from': from,
            ':now': now,
            ':h': current.deviceCodeHash,
            ...(current.lastPolledAt ? { ':polled': current.lastPolledAt } : {}),
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async #putTokens(tokens: readonly TokenRecord[]): Promise<void> {
    for (const token of tokens) {
      await this.#doc.send(
        new PutCommand({ TableName: this.#signin, Item: signinItem(`token#${token.hash}`, token) }),
      );
    }
  }

  async createSession(session: Session, tokens: readonly TokenRecord[]): Promise<void> {
    // The session first: a token whose session cannot be read is refused.
    await this.#doc.send(
      new PutCommand({ TableName: this.#signin, Item: signinItem(`session#${session.id}`, session) }),
    );
    await this.#putTokens(tokens);
  }

  async getSession(id: string): Promise<Session | undefined> {
    return this.#getSignin<Session>(`session#${id}`);
  }

  async findToken(hash: string): Promise<TokenRecord | undefined> {
    return this.#getSignin<TokenRecord>(`token#${hash}`);
  }

  async rotateRefreshToken(
    oldHash: string,
    tokens: readonly TokenRecord[],
    at: string,
    idpRefreshToken?: string,
    successor?: string,
  ): Promise<RotateResult> {
    const old = await this.findToken(oldHash);
    if (old?.kind !== 'refresh') return 'not-found';
    // One transaction: the old token is never seen used before its successor pair is stored (a client
    // handed that pair within the grace would be refused), and a refused write leaves it unused.
    const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [
      {
        Update: {
          TableName: this.#signin,
          Key: { pk: `token#${oldHash}` },
          UpdateExpression: successor ? 'SET usedAt = :at, successor = :s' : 'SET usedAt = :at',
          ConditionExpression:
            'attribute_exists(pk) AND attribute_not_exists(usedAt) AND attribute_not_exists(revokedAt)',
          ExpressionAttributeValues: { ':at': at, ...(successor ? { ':s': successor } : {}) },
        },
      },
      ...tokens.map((token) => ({
        Put: { TableName: this.#signin, Item: signinItem(`token#${token.hash}`, token) },
      })),
    ];
    if (idpRefreshToken !== undefined) {
      items.push({
        Update: {
          TableName: this.#signin,
          Key: { pk: `session#${old.sessionId}` },
          UpdateExpression: 'SET idpRefreshToken = :t',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':t': idpRefreshToken },
        },
      });
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#doc.send(new TransactWriteCommand({ TransactItems: items }));
        return 'rotated';
      } catch (err) {
        const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
        if (reasons[0]?.Code === 'ConditionalCheckFailed') return 'reused';
        // Another instance's rotation of the same token in flight: once it commits, this one is reuse.
        const conflict = reasons.some((reason) => reason.Code === 'TransactionConflict');
        if (!conflict || attempt === 5) throw err;
        await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
      }
    }
  }

  async #setOnce(pk: string, attribute: string, at: string): Promise<void> {
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.#signin,
          Key: { pk },
          UpdateExpression: 'SET #a = :at',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#a)',
          ExpressionAttributeNames: { '#a': attribute },
          ExpressionAttributeValues: { ':at': at },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  async revokeToken(hash: string, at: string): Promise<void> {
    await this.#setOnce(`token#${hash}`, 'revokedAt', at);
  }

  async revokeSession(id: string, at: string): Promise<void> {
    await this.#setOnce(`session#${id}`, 'revokedAt', at);
  }

  async sweepExpired(): Promise<number> {
    // DynamoDB's TTL deletes expired items; readers check expiresAt meanwhile.
    return 0;
  }

  async close(): Promise<void> {
    this.#owned?.destroy();
  }
}

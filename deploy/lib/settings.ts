/**
 * The stack's parameters, read from CDK context (`-c key=value` on the command line, or deploy/cdk.json)
 * into one typed, validated object. Pure: the tests build settings without an App.
 */
import { DEFAULT_DRAIN_TIMEOUT_MS } from '../../src/config/drain.ts';
import { checkTablePrefix, DEFAULT_TABLE_PREFIX } from '../../src/store/schema.ts';

export type ServiceTier = 'default' | 'flex' | 'priority' | 'reserved';

export interface DeploySettings {
  /** undefined: environment-agnostic (the region of the deploying credentials). */
  region: string | undefined;
  account: string | undefined;
  tablePrefix: string;
  desiredCount: number;
  maxCount: number;
  defaultServiceTier: ServiceTier;
  /** HTTPS on 443 (and a redirect from 80) when set; plain HTTP on 80 otherwise (see allowPlainHttp). */
  certificateArn: string | undefined;
  /** Serve plain HTTP without a certificate: only when asked for explicitly (keys travel in clear text). */
  allowPlainHttp: boolean;
  /** The only networks the load balancer accepts connections from. */
  allowedCidrs: string[];
  /** Use this VPC (looked up; needs an account and region) instead of creating one. */
  vpcId: string | undefined;
  natGateways: number;
  /** A pushed image; undefined: build the repository's Dockerfile as a CDK asset at deploy time. */
  imageUri: string | undefined;
  /** ALB idle timeout: silence allowed on a connection (SSE pings come every 15 s). */
  idleTimeoutSeconds: number;
  /** Target-group deregistration delay and serve's ABPROXY_DRAIN_TIMEOUT_MS: one number for both. */
  drainTimeoutSeconds: number;
  cpu: number;
  memoryMiB: number;
  logRetentionDays: number;
  /** Auto-scaling target: ALB requests per task per minute. */
  requestsPerTarget: number;
}

export type ContextReader = (key: string) => unknown;

export class SettingsError extends Error {
  override name = 'SettingsError';
}

const TIERS: readonly ServiceTier[] = ['default', 'flex', 'priority', 'reserved'];
/** The retention periods CloudWatch Logs accepts. */
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

function str(read: ContextReader, key: string): string | undefined {
  const value = read(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new SettingsError(`context ${key}: expected a string, got ${JSON.stringify(value)}`);
  }
  return String(value).trim();
}

function int(read: ContextReader, key: string, fallback: number, min: number, max: number): number {
  const raw = str(read, key);
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new SettingsError(`context ${key}: expected an integer from ${min} to ${max}, got ${raw}`);
  }
  return n;
}

function bool(read: ContextReader, key: string): boolean {
  const raw = read(key);
  if (raw === undefined || raw === null || raw === '' || raw === false || raw === 'false') return false;
  if (raw === true || raw === 'true') return true;
  throw new SettingsError(`context ${key}: expected true or false, got ${JSON.stringify(raw)}`);
}

function cidrs(read: ContextReader): string[] {
  const value = read('allowedCidrs');
  const list = Array.isArray(value)
    ? value.map(String)
    : typeof value === 'string'
      ? value.split(',')
      : value === undefined
        ? []
        : [String(value)];
  const out = list.map((c) => c.trim()).filter((c) => c !== '');
  if (out.length === 0) {
    throw new SettingsError(
      'context allowedCidrs is required: the networks allowed to reach the gateway, e.g. ' +
        '-c allowedCidrs=203.0.113.0/24,198.51.100.7/32 (0.0.0.0/0 only on purpose)',
    );
  }
  for (const c of out) {
    if (!/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/.test(c) && !/^[0-9a-f:]+\/\d{1,3}$/i.test(c)) {
      throw new SettingsError(`context allowedCidrs: '${c}' is not an IPv4 or IPv6 CIDR`);
    }
  }
  return out;
}

function retention(read: ContextReader): number {
  const days = int(read, 'logRetentionDays', 30, 1, 3653);
  if (!RETENTION_DAYS.includes(days)) {
    throw new SettingsError(`context logRetentionDays: CloudWatch accepts ${RETENTION_DAYS.join(', ')}`);
  }
  return days;
}

export function readSettings(
  read: ContextReader,
  env: Record<string, string | undefined> = {},
): DeploySettings {
  const tablePrefix = str(read, 'tablePrefix') ?? DEFAULT_TABLE_PREFIX;
  const prefixProblem = checkTablePrefix(tablePrefix);
  if (prefixProblem) throw new SettingsError(`context tablePrefix: ${prefixProblem}`);
  const desiredCount = int(read, 'desiredCount', 2, 2, 100);
  const maxCount = int(read, 'maxCount', Math.max(desiredCount, 6), desiredCount, 200);
  const tier = (str(read, 'defaultServiceTier') ?? 'default').toLowerCase();
  if (!TIERS.includes(tier as ServiceTier)) {
    throw new SettingsError(`context defaultServiceTier: expected one of ${TIERS.join(', ')}, got ${tier}`);
  }
  const certificateArn = str(read, 'certificateArn');
  if (certificateArn && !/^arn:aws[\w-]*:acm:/.test(certificateArn)) {
    throw new SettingsError(`context certificateArn: expected an ACM certificate ARN, got ${certificateArn}`);
  }
  const allowedCidrs = cidrs(read);
  const allowPlainHttp = bool(read, 'allowPlainHttp');
  if (!certificateArn && !allowPlainHttp) {
    throw new SettingsError(
      'context certificateArn is required: without it the load balancer serves plain HTTP and API keys ' +
        'cross the network in clear text. Give -c certificateArn=arn:aws:acm:… (an ACM certificate for the ' +
        'name clients use), or -c allowPlainHttp=true on purpose (a private network, TLS ended in front).',
    );
  }
  return {
    region: str(read, 'region') ?? env.CDK_DEFAULT_REGION,
    account: str(read, 'account') ?? env.CDK_DEFAULT_ACCOUNT,
    tablePrefix,
    desiredCount,
    maxCount,
    defaultServiceTier: tier as ServiceTier,
    certificateArn,
    allowPlainHttp,
    allowedCidrs,
    vpcId: str(read, 'vpcId'),
    natGateways: int(read, 'natGateways', 1, 1, 3),
    imageUri: str(read, 'imageUri'),
    // At least 600 s: a model may think silently for minutes between pings on a slow path.
    idleTimeoutSeconds: int(read, 'idleTimeoutSeconds', 900, 600, 4000),
    drainTimeoutSeconds: int(read, 'drainTimeoutSeconds', DEFAULT_DRAIN_TIMEOUT_MS / 1000, 0, 3600),
    cpu: int(read, 'cpu', 1024, 256, 16384),
    memoryMiB: int(read, 'memoryMiB', 2048, 512, 122880),
    logRetentionDays: retention(read),
    requestsPerTarget: int(read, 'requestsPerTarget', 300, 1, 100000),
  };
}

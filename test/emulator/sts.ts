/**
 * STS `AssumeRole` as the AWS SDK speaks it (query protocol: a form-encoded POST to `/`, XML back), so
 * role credentials are exercised for real through `AWS_ENDPOINT_URL_STS`. Each call issues a fresh
 * temporary key (ASIA…, secret, session token) that the emulator's SigV4 check accepts until it expires.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { BedrockError } from './errors.ts';

export interface Session {
  secretAccessKey: string;
  sessionToken: string;
  expiresAt: number;
  roleArn: string;
  externalId?: string;
}

export class RoleSessions {
  readonly #sessions = new Map<string, Session>();
  /** Lifetime of issued credentials unless the call asks for DurationSeconds. */
  durationSeconds: number;

  constructor(durationSeconds = 3600) {
    this.durationSeconds = durationSeconds;
  }

  get(accessKeyId: string): Session | undefined {
    return this.#sessions.get(accessKeyId);
  }

  /** Answers one AssumeRole form body with the XML STS sends. */
  assumeRole(form: URLSearchParams): string {
    const roleArn = form.get('RoleArn');
    const sessionName = form.get('RoleSessionName');
    if (!roleArn || !/^arn:aws[\w-]*:iam::\d{12}:role\/\S+$/.test(roleArn) || !sessionName) {
      throw new BedrockError('ValidationError', 'RoleArn and RoleSessionName are required', 400);
    }
    const duration = Number(form.get('DurationSeconds') ?? this.durationSeconds);
    const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const session: Session = {
      secretAccessKey: randomBytes(20).toString('base64url'),
      sessionToken: randomBytes(32).toString('base64url'),
      expiresAt: Date.now() + duration * 1000,
      roleArn,
    };
    const externalId = form.get('ExternalId');
    if (externalId) session.externalId = externalId;
    this.#sessions.set(accessKeyId, session);
    const account = roleArn.split(':')[4];
    const role = roleArn.split('/').at(-1);
    return `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <AssumedRoleId>AROAEMULATOR:${sessionName}</AssumedRoleId>
      <Arn>arn:aws:sts::${account}:assumed-role/${role}/${sessionName}</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${accessKeyId}</AccessKeyId>
      <SecretAccessKey>${session.secretAccessKey}</SecretAccessKey>
      <SessionToken>${session.sessionToken}</SessionToken>
      <Expiration>${new Date(session.expiresAt).toISOString()}</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>
</AssumeRoleResponse>`;
  }
}

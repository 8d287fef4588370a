/**
 * The CDK app, synthesized offline (no credentials, no Docker): the template holds what the issue asks
 * for, the DynamoDB tables match the schema `abproxy tables setup` uses, IAM is least-privilege, and
 * every cdk-nag AwsSolutions finding is either fixed or acknowledged with a reason.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { AbproxyStack } from '../../deploy/lib/abproxy-stack.ts';
import { buildApp } from '../../deploy/lib/app.ts';
import { readSettings } from '../../deploy/lib/settings.ts';
import { DEFAULT_DRAIN_TIMEOUT_MS } from '../../src/config/drain.ts';
import { tableSchemas } from '../../src/store/schema.ts';

// biome-ignore lint/suspicious/noExplicitAny: synthesized CloudFormation JSON, read by path in assertions
type Json = Record<string, any>;

function synth(context: Record<string, unknown> = {}) {
  const outdir = mkdtempSync(join(tmpdir(), 'abproxy-cdk-'));
  const built = buildApp(
    { outdir, context: { allowedCidrs: '203.0.113.0/24', allowPlainHttp: 'true', ...context } },
    {},
  );
  const template = Template.fromStack(built.stack);
  return { ...built, template, outdir };
}

const base = synth();
const t = base.template;

function resourcesOf(template: Template, type: string): Json[] {
  return Object.values(template.findResources(type)).map((r) => r as Json);
}

function policyStatements(template: Template): Json[] {
  return resourcesOf(template, 'AWS::IAM::Policy').flatMap(
    (p) => p.Properties.PolicyDocument.Statement as Json[],
  );
}

function taskRoleStatements(template: Template): Json[] {
  const [roleId] = Object.keys(
    template.findResources('AWS::IAM::Role', {
      Properties: { Description: Match.stringLikeRegexp('abproxy serve') },
    }),
  );
  const policies = resourcesOf(template, 'AWS::IAM::Policy').filter((p) =>
    (p.Properties.Roles as Json[]).some((r) => r.Ref === roleId),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Json[]);
}

const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

describe('ECS service and load balancer', () => {
  it('runs at least two Fargate tasks, scaling on CPU and on ALB requests per target', () => {
    t.hasResourceProperties('AWS::ECS::Service', { LaunchType: 'FARGATE', DesiredCount: 2 });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 2,
      MaxCapacity: 6,
    });
    const metrics = resourcesOf(t, 'AWS::ApplicationAutoScaling::ScalingPolicy').map(
      (p) =>
        p.Properties.TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification
          .PredefinedMetricType,
    );
    expect(metrics.sort()).toEqual(['ALBRequestCountPerTarget', 'ECSServiceAverageCPUUtilization']);
  });

  it('takes desired and max task counts from context, and refuses fewer than two tasks', () => {
    const { template } = synth({ desiredCount: '3', maxCount: '10' });
    template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 3 });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 3,
      MaxCapacity: 10,
    });
    expect(() => synth({ desiredCount: '1' })).toThrow(/desiredCount/);
  });

  it('keeps idle connections open at least 600 s (900 by default) for long model streams', () => {
    const attrs = resourcesOf(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer')[0]!.Properties
      .LoadBalancerAttributes as Json[];
    const idle = Number(attrs.find((a) => a.Key === 'idle_timeout.timeout_seconds')!.Value);
    expect(idle).toBe(900);
    expect(() => synth({ idleTimeoutSeconds: '300' })).toThrow(/idleTimeoutSeconds/);
    // serve keeps the balancer's quiet connections open longer than the balancer does (no 502 races).
    const container = resourcesOf(t, 'AWS::ECS::TaskDefinition')[0]!.Properties.ContainerDefinitions[0];
    const env = Object.fromEntries((container.Environment as Json[]).map((e) => [e.Name, e.Value]));
    expect(Number(env.ABPROXY_KEEP_ALIVE_TIMEOUT_MS)).toBeGreaterThan(idle * 1000);
    expect(Number(env.ABPROXY_SOCKET_IDLE_TIMEOUT_MS)).toBeGreaterThan(idle * 1000);
  });

  it('health-checks /health and drains targets for as long as serve drains', () => {
    const tg = resourcesOf(t, 'AWS::ElasticLoadBalancingV2::TargetGroup')[0]!.Properties;
    expect(tg.HealthCheckPath).toBe('/health');
    expect(tg.Matcher).toEqual({ HttpCode: '200' });
    const delay = (tg.TargetGroupAttributes as Json[]).find(
      (a) => a.Key === 'deregistration_delay.timeout_seconds',
    );
    expect(Number(delay!.Value) * 1000).toBe(DEFAULT_DRAIN_TIMEOUT_MS);
    const container = resourcesOf(t, 'AWS::ECS::TaskDefinition')[0]!.Properties.ContainerDefinitions[0];
    const env = Object.fromEntries((container.Environment as Json[]).map((e) => [e.Name, e.Value]));
    expect(Number(env.ABPROXY_DRAIN_TIMEOUT_MS)).toBe(Number(delay!.Value) * 1000);
  });

  it('a drainTimeoutSeconds context moves both the deregistration delay and serve setting', () => {
    const { template } = synth({ drainTimeoutSeconds: '600' });
    const tg = resourcesOf(template, 'AWS::ElasticLoadBalancingV2::TargetGroup')[0]!.Properties;
    const delay = (tg.TargetGroupAttributes as Json[]).find(
      (a) => a.Key === 'deregistration_delay.timeout_seconds',
    );
    expect(delay!.Value).toBe('600');
    const container = resourcesOf(template, 'AWS::ECS::TaskDefinition')[0]!.Properties
      .ContainerDefinitions[0];
    expect(container.Environment).toContainEqual({ Name: 'ABPROXY_DRAIN_TIMEOUT_MS', Value: '600000' });
    expect(container.StopTimeout).toBe(120);
  });

  it('listens on HTTP only without a certificate, and on HTTPS (with a redirect) when one is given', () => {
    const plain = resourcesOf(t, 'AWS::ElasticLoadBalancingV2::Listener').map((l) => l.Properties);
    expect(plain.map((l) => [l.Port, l.Protocol])).toEqual([[80, 'HTTP']]);
    const arn = 'arn:aws:acm:us-east-1:123456789012:certificate/0f0e';
    const { template } = synth({ certificateArn: arn });
    const listeners = resourcesOf(template, 'AWS::ElasticLoadBalancingV2::Listener').map((l) => l.Properties);
    const https = listeners.find((l) => l.Protocol === 'HTTPS')!;
    expect(https.Port).toBe(443);
    expect(https.Certificates).toEqual([{ CertificateArn: arn }]);
    const redirect = listeners.find((l) => l.Port === 80)!;
    expect(redirect.DefaultActions[0].Type).toBe('redirect');
  });

  it('refuses plain HTTP unless asked for, and then says so in the synth output', () => {
    expect(() => synth({ allowPlainHttp: undefined })).toThrow(
      /certificateArn is required.*allowPlainHttp=true/s,
    );
    expect(() => synth({ allowPlainHttp: 'yes please' })).toThrow(/allowPlainHttp: expected true or false/);
    Annotations.fromStack(base.stack).hasWarning('*', Match.stringLikeRegexp('plain HTTP.*clear text'));
    const secure = synth({
      allowPlainHttp: undefined,
      certificateArn: 'arn:aws:acm:us-east-1:1:certificate/x',
    });
    expect(
      Annotations.fromStack(secure.stack).findWarning('*', Match.stringLikeRegexp('plain HTTP')),
    ).toEqual([]);
  });

  it('admits clients only from allowedCidrs, and requires that context', () => {
    const sgs = resourcesOf(t, 'AWS::EC2::SecurityGroup').map((s) => s.Properties);
    const cidrIngress = sgs
      .flatMap((s) => (s.SecurityGroupIngress ?? []) as Json[])
      .filter((r) => r.CidrIp || r.CidrIpv6);
    expect(cidrIngress.length).toBeGreaterThan(0);
    for (const rule of cidrIngress) {
      expect(rule.CidrIp).toBe('203.0.113.0/24');
      expect(rule.FromPort).toBe(80);
    }
    expect(() => buildApp({ outdir: mkdtempSync(join(tmpdir(), 'abproxy-cdk-')) }, {})).toThrow(
      /allowedCidrs is required/,
    );
  });

  it('builds the image from the repository Dockerfile, or uses imageUri when given', () => {
    const image = resourcesOf(t, 'AWS::ECS::TaskDefinition')[0]!.Properties.ContainerDefinitions[0].Image;
    expect(JSON.stringify(image)).toMatch(/cdk-hnb659fds-container-assets/);
    const { template } = synth({ imageUri: 'public.ecr.aws/example/abproxy:1.0' });
    const pinned = resourcesOf(template, 'AWS::ECS::TaskDefinition')[0]!.Properties.ContainerDefinitions[0]
      .Image;
    expect(pinned).toBe('public.ecr.aws/example/abproxy:1.0');
  });

  it('outputs the load balancer address and the master key secret', () => {
    expect(Object.keys(t.findOutputs('*')).sort()).toEqual(['AlbDnsName', 'MasterKeySecretArn', 'Url']);
  });

  it('logs to CloudWatch with a retention period', () => {
    const container = resourcesOf(t, 'AWS::ECS::TaskDefinition')[0]!.Properties.ContainerDefinitions[0];
    expect(container.LogConfiguration.LogDriver).toBe('awslogs');
    const groupId = container.LogConfiguration.Options['awslogs-group'].Ref as string;
    expect(t.toJSON().Resources[groupId].Properties.RetentionInDays).toBe(30);
    for (const group of resourcesOf(t, 'AWS::Logs::LogGroup'))
      expect(group.Properties.RetentionInDays).toBeGreaterThan(0);
  });
});

describe('configuration and secrets', () => {
  it('injects MASTER_API_KEY from a generated Secrets Manager secret, never as plain text', () => {
    const [secretId] = Object.keys(t.findResources('AWS::SecretsManager::Secret'));
    expect(secretId).toBeDefined();
    t.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ PasswordLength: 48 }),
    });
    const container = resourcesOf(t, 'AWS::ECS::TaskDefinition')[0]!.Properties.ContainerDefinitions[0];
    expect(container.Secrets).toEqual([{ Name: 'MASTER_API_KEY', ValueFrom: { Ref: secretId } }]);
    expect((container.Environment as Json[]).map((e) => e.Name)).not.toContain('MASTER_API_KEY');
    // The execution role (which fetches secrets at start) may read this secret and nothing else.
    const reads = policyStatements(t).filter((s) =>
      asList(s.Action).includes('secretsmanager:GetSecretValue'),
    );
    expect(reads.map((s) => s.Resource)).toEqual([{ Ref: secretId }]);
  });

  it('runs team mode against the stack tables, with the context tier and prefix', () => {
    const { template } = synth({ tablePrefix: 'acme', defaultServiceTier: 'flex' });
    const container = resourcesOf(template, 'AWS::ECS::TaskDefinition')[0]!.Properties
      .ContainerDefinitions[0];
    expect(container.Environment).toEqual(
      expect.arrayContaining([
        { Name: 'ABPROXY_MODE', Value: 'team' },
        { Name: 'ABPROXY_TABLE_PREFIX', Value: 'acme' },
        { Name: 'DEFAULT_SERVICE_TIER', Value: 'flex' },
      ]),
    );
    expect(() => synth({ defaultServiceTier: 'turbo' })).toThrow(/defaultServiceTier/);
  });
});

describe('DynamoDB tables', () => {
  it('are the tables of src/store/schema.ts: names, keys, indexes, TTL, on-demand, point-in-time recovery', () => {
    const { template } = synth({ tablePrefix: 'team1' });
    const tables = resourcesOf(template, 'AWS::DynamoDB::Table');
    const schemas = tableSchemas('team1');
    expect(tables).toHaveLength(schemas.length);
    for (const schema of schemas) {
      const table = tables.find((r) => r.Properties.TableName === schema.tableName);
      expect(table, schema.tableName).toBeDefined();
      const p = table!.Properties;
      expect(p.BillingMode).toBe('PAY_PER_REQUEST');
      expect(p.KeySchema).toEqual([
        { AttributeName: schema.partitionKey, KeyType: 'HASH' },
        ...(schema.sortKey ? [{ AttributeName: schema.sortKey, KeyType: 'RANGE' }] : []),
      ]);
      expect(p.TimeToLiveSpecification).toEqual(
        schema.ttlAttribute ? { AttributeName: schema.ttlAttribute, Enabled: true } : undefined,
      );
      expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(
        (p.GlobalSecondaryIndexes ?? []).map((g: Json) => [g.IndexName, g.KeySchema[0].AttributeName]),
      ).toEqual(schema.indexes.map((i) => [i.indexName, i.partitionKey]));
      expect(table!.DeletionPolicy).toBe('Retain');
    }
  });
});

describe('task role (least privilege)', () => {
  const statements = taskRoleStatements(t);
  const actions = statements.flatMap((s) => asList(s.Action as string | string[]));

  it('has no wildcard actions anywhere in the stack', () => {
    for (const s of policyStatements(t))
      for (const a of asList(s.Action as string | string[])) expect(a).not.toContain('*');
  });

  it('allows exactly the Bedrock calls the gateway makes', () => {
    expect(actions.filter((a) => a.startsWith('bedrock:')).sort()).toEqual(
      [
        'bedrock:CountTokens',
        'bedrock:GetInferenceProfile',
        'bedrock:InvokeModel',
        'bedrock:InvokeModelWithResponseStream',
        'bedrock:ListFoundationModels',
        'bedrock:ListInferenceProfiles',
      ].sort(),
    );
    const invoke = statements.find((s) => asList(s.Action).includes('bedrock:InvokeModel'))!;
    const resources = JSON.stringify(invoke.Resource);
    expect(resources).toContain('::foundation-model/*');
    expect(resources).toContain(':inference-profile/*');
    expect(asList(invoke.Resource)).not.toContain('*');
    // Only the two list actions, which take no resource, are on Resource *.
    const star = statements.filter((s) => asList(s.Resource).includes('*'));
    expect(star.flatMap((s) => asList(s.Action)).sort()).toEqual([
      'bedrock:ListFoundationModels',
      'bedrock:ListInferenceProfiles',
    ]);
  });

  it('reaches DynamoDB only on the three stack tables and their indexes', () => {
    const dynamo = statements.filter((s) => asList(s.Action).some((a: string) => a.startsWith('dynamodb:')));
    expect(dynamo).toHaveLength(1);
    const tableIds = Object.keys(t.findResources('AWS::DynamoDB::Table')).sort();
    const resources = asList(dynamo[0]!.Resource) as Json[];
    const referenced = new Set(JSON.stringify(resources).match(/Table[A-Za-z0-9]+(?=")/g));
    expect([...referenced].sort()).toEqual(tableIds);
    expect(resources).toHaveLength(tableIds.length * 2);
    expect(asList(dynamo[0]!.Action)).not.toContain('dynamodb:DeleteTable');
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('synthesizes with no unacknowledged finding, and every acknowledgement says why', () => {
    const { app, acknowledged, outdir } = synth({
      allowedCidrs: '0.0.0.0/0',
      certificateArn: 'arn:aws:acm:us-east-1:1:certificate/x',
    });
    expect(() => app.synth()).not.toThrow();
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8'));
    expect(JSON.stringify(report)).toMatch(/AwsSolutions/);
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const a of acknowledged) expect(a.reason.length, a.id).toBeGreaterThan(40);
    expect(acknowledged.map((a) => a.id)).toContain('AwsSolutions::AwsSolutions-EC23');
  });

  it('fails synthesis on a finding nobody acknowledged', async () => {
    const cdkNag = (await import('cdk-nag')).default;
    const { Validations } = await import('aws-cdk-lib');
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'abproxy-cdk-')) });
    const settings = readSettings((k) =>
      k === 'allowedCidrs' ? '0.0.0.0/0' : k === 'allowPlainHttp' ? 'true' : undefined,
    );
    new AbproxyStack(app, 'Bare', { settings });
    Validations.of(app).addPlugins(new cdkNag.AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow();
  });
});

/**
 * abproxy in team mode on AWS: `serve` tasks on ECS Fargate behind an Application Load Balancer, sharing
 * the DynamoDB tables `abproxy tables setup` would create (same schema module), with the master key in
 * Secrets Manager, logs in CloudWatch, and a task role limited to the calls the gateway makes.
 */
import { join } from 'node:path';
import { Annotations, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { type TableSchema, tableSchemas } from '../../src/store/schema.ts';
import type { DeploySettings } from './settings.ts';
import { bedrockStatements, dynamoStatement } from './task-policy.ts';

export const REPO_ROOT = join(import.meta.dirname, '../..');
export const CONTAINER_PORT = 8080;
/** Fargate's ceiling for the SIGTERM-to-SIGKILL window. */
const FARGATE_MAX_STOP_TIMEOUT_S = 120;
/** The image's own HEALTHCHECK, repeated because ECS ignores the Dockerfile's. */
/** How much longer than the load balancer's idle timeout serve keeps a quiet connection open. */
const KEEP_ALIVE_MARGIN_SECONDS = 5;
const HEALTH_COMMAND =
  "fetch('http://127.0.0.1:'+(process.env.ABPROXY_PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))";

export interface AbproxyStackProps extends StackProps {
  settings: DeploySettings;
}

export class AbproxyStack extends Stack {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly service: ecs.FargateService;
  readonly tables: dynamodb.Table[];
  readonly masterKey: secretsmanager.Secret;
  /** Load balancer access logs; undefined on an environment-agnostic stack (no region to deliver from). */
  readonly accessLogs: s3.Bucket | undefined;

  constructor(scope: Construct, id: string, props: AbproxyStackProps) {
    super(scope, id, props);
    const s = props.settings;

    const vpc = s.vpcId
      ? ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: s.vpcId })
      : new ec2.Vpc(this, 'Vpc', {
          maxAzs: 2,
          natGateways: s.natGateways,
          subnetConfiguration: [
            { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
            { name: 'tasks', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
          ],
          flowLogs: { all: { trafficType: ec2.FlowLogTrafficType.REJECT } },
        });

    this.tables = tableSchemas(s.tablePrefix).map((schema) => this.#table(schema));

    this.masterKey = new secretsmanager.Secret(this, 'MasterApiKey', {
      description:
        'abproxy MASTER_API_KEY: admin key of the gateway (clients use keys made with `abproxy keys create`)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: s.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    const taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'abproxy serve: Bedrock model calls and catalogue reads, and its own DynamoDB tables',
    });
    for (const statement of bedrockStatements()) taskRole.addToPrincipalPolicy(statement);
    taskRole.addToPrincipalPolicy(dynamoStatement(this.tables.map((t) => t.tableArn)));

    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: s.cpu,
      memoryLimitMiB: s.memoryMiB,
      taskRole,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    const image = s.imageUri
      ? ecs.ContainerImage.fromRegistry(s.imageUri)
      : ecs.ContainerImage.fromAsset(REPO_ROOT, { file: 'Dockerfile' });
    taskDefinition.addContainer('abproxy', {
      image,
      // The image's CMD is `abproxy serve --host 0.0.0.0 --mode team`; configuration is env only.
      environment: {
        ABPROXY_MODE: 'team',
        ABPROXY_TABLE_PREFIX: s.tablePrefix,
        ABPROXY_PORT: String(CONTAINER_PORT),
        AWS_REGION: Stack.of(this).region,
        DEFAULT_SERVICE_TIER: s.defaultServiceTier,
        ABPROXY_DRAIN_TIMEOUT_MS: String(s.drainTimeoutSeconds * 1000),
        // The load balancer reuses its connections to the task for up to its idle timeout: serve must keep
        // them open longer, or a request racing serve's close gets a 502.
        ABPROXY_KEEP_ALIVE_TIMEOUT_MS: String((s.idleTimeoutSeconds + KEEP_ALIVE_MARGIN_SECONDS) * 1000),
        ABPROXY_SOCKET_IDLE_TIMEOUT_MS: String((s.idleTimeoutSeconds + KEEP_ALIVE_MARGIN_SECONDS) * 1000),
        LOG_LEVEL: 'info',
        // The load balancer is every caller's peer: the sign-in pages' per-address limits count the address
        // it appends to X-Forwarded-For (the security group admits the balancer only).
        ABPROXY_TRUSTED_PROXIES: '1',
      },
      secrets: { MASTER_API_KEY: ecs.Secret.fromSecretsManager(this.masterKey) },
      portMappings: [{ containerPort: CONTAINER_PORT, protocol: ecs.Protocol.TCP }],
      logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'abproxy' }),
      healthCheck: {
        command: ['CMD', 'node', '-e', HEALTH_COMMAND],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        startPeriod: Duration.seconds(15),
        retries: 3,
      },
      // ECS waits for the target to drain (deregistration delay) before it sends SIGTERM; serve then
      // finishes whatever is left within this window, which Fargate caps at 120 s.
      stopTimeout: Duration.seconds(Math.min(s.drainTimeoutSeconds, FARGATE_MAX_STOP_TIMEOUT_S)),
      readonlyRootFilesystem: false,
      linuxParameters: new ecs.LinuxParameters(this, 'Init', { initProcessEnabled: true }),
    });

    const albSecurityGroup = new ec2.SecurityGroup(this, 'AlbSecurityGroup', {
      vpc,
      description: 'abproxy load balancer: clients from allowedCidrs only',
      allowAllOutbound: false,
    });
    const listenerPorts = s.certificateArn ? [443, 80] : [80];
    for (const cidr of s.allowedCidrs) {
      const peer = cidr.includes(':') ? ec2.Peer.ipv6(cidr) : ec2.Peer.ipv4(cidr);
      for (const port of listenerPorts)
        albSecurityGroup.addIngressRule(peer, ec2.Port.tcp(port), `clients ${cidr}`);
    }

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc,
      internetFacing: true,
      securityGroup: albSecurityGroup,
      idleTimeout: Duration.seconds(s.idleTimeoutSeconds),
      dropInvalidHeaderFields: true,
    });
    // Access logs need the region's ELB log-delivery principal: only on a stack with a known region.
    if (!Token.isUnresolved(this.region)) {
      this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        lifecycleRules: [{ expiration: Duration.days(s.logRetentionDays) }],
        removalPolicy: RemovalPolicy.RETAIN,
      });
      this.loadBalancer.logAccessLogs(this.accessLogs, 'alb');
    }

    const serviceSecurityGroup = new ec2.SecurityGroup(this, 'ServiceSecurityGroup', {
      vpc,
      description: 'abproxy tasks: the load balancer only; egress to Bedrock, DynamoDB, ECR, logs',
      allowAllOutbound: true,
    });
    this.service = new ecs.FargateService(this, 'Service', {
      cluster,
      taskDefinition,
      desiredCount: s.desiredCount,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      securityGroups: [serviceSecurityGroup],
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      assignPublicIp: false,
      circuitBreaker: { rollback: true },
      healthCheckGracePeriod: Duration.seconds(30),
    });

    const targetGroup = new elbv2.ApplicationTargetGroup(this, 'Targets', {
      vpc,
      port: CONTAINER_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      targets: [this.service],
      // serve answers /health 503 from the first SIGTERM on; matched with ABPROXY_DRAIN_TIMEOUT_MS above.
      deregistrationDelay: Duration.seconds(s.drainTimeoutSeconds),
      healthCheck: {
        path: '/health',
        healthyHttpCodes: '200',
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
      },
    });
    serviceSecurityGroup.addIngressRule(albSecurityGroup, ec2.Port.tcp(CONTAINER_PORT), 'load balancer');
    albSecurityGroup.addEgressRule(serviceSecurityGroup, ec2.Port.tcp(CONTAINER_PORT), 'to the tasks');

    if (s.certificateArn) {
      this.loadBalancer.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [elbv2.ListenerCertificate.fromArn(s.certificateArn)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultTargetGroups: [targetGroup],
        open: false,
      });
      this.loadBalancer.addListener('HttpRedirect', {
        port: 80,
        open: false,
        defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
      });
    } else {
      // Only with -c allowPlainHttp=true (settings.ts refuses it otherwise); said in the synth output.
      const http = this.loadBalancer.addListener('Http', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        defaultTargetGroups: [targetGroup],
        open: false,
      });
      Annotations.of(http).addWarningV2(
        'abproxy:plain-http',
        'This load balancer serves plain HTTP (allowPlainHttp=true, no certificateArn): API keys and prompts ' +
          'cross the network in clear text. Use it only on a network you trust, or give -c certificateArn=….',
      );
    }

    new CfnOutput(this, 'AlbDnsName', { value: this.loadBalancer.loadBalancerDnsName });
    new CfnOutput(this, 'Url', {
      value: `${s.certificateArn ? 'https' : 'http'}://${this.loadBalancer.loadBalancerDnsName}`,
      description: 'ANTHROPIC_BASE_URL for clients (with a certificate, use the DNS name it was issued for)',
    });
    new CfnOutput(this, 'MasterKeySecretArn', {
      value: this.masterKey.secretArn,
      description: 'aws secretsmanager get-secret-value --secret-id <this> shows the master key',
    });

    const scaling = this.service.autoScaleTaskCount({ minCapacity: s.desiredCount, maxCapacity: s.maxCount });
    scaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: 60,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.seconds(300),
    });
    scaling.scaleOnRequestCount('Requests', {
      requestsPerTarget: s.requestsPerTarget,
      targetGroup,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.seconds(300),
    });
  }

  #table(schema: TableSchema): dynamodb.Table {
    const attr = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
    const table = new dynamodb.Table(this, `Table-${schema.role}`, {
      tableName: schema.tableName,
      partitionKey: attr(schema.partitionKey),
      ...(schema.sortKey ? { sortKey: attr(schema.sortKey) } : {}),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      ...(schema.ttlAttribute ? { timeToLiveAttribute: schema.ttlAttribute } : {}),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Keys and usage outlive the stack: deleting it must not delete who may call and what was spent.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of schema.indexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: attr(index.partitionKey),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    return table;
  }
}

/**
 * cdk-nag AwsSolutions checks on the app, and the findings we acknowledge, each with its reason.
 * Any other finding fails synthesis (cdk-nag 3 runs as a CDK policy-validation plugin).
 */
import { type App, type CfnElement, Validations } from 'aws-cdk-lib';
// cdk-nag is CommonJS whose named exports Node's ESM loader cannot see: take them from the default.
import cdkNag from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { AbproxyStack } from './abproxy-stack.ts';
import type { DeploySettings } from './settings.ts';

const { AwsSolutionsChecks } = cdkNag;
const PACK = 'AwsSolutions';

export interface Acknowledgement {
  path: string;
  id: string;
  reason: string;
}

const BEDROCK_WILDCARDS =
  'Clients choose the model per request (any foundation model or inference profile the account may ' +
  'call), so model ARNs are wildcards within the partition (and this account and region for profiles). ' +
  'Foundation-model ARNs need region * because inference profiles route to other regions. The actions ' +
  'are only InvokeModel, InvokeModelWithResponseStream, CountTokens and GetInferenceProfile.';

export function applyNag(app: App, stack: AbproxyStack, settings: DeploySettings): Acknowledgement[] {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  const acknowledged: Acknowledgement[] = [];
  const ack = (scope: IConstruct, rule: string, reason: string) => {
    const id = `${PACK}::${PACK}-${rule}`;
    Validations.of(scope).acknowledge({ id, reason });
    acknowledged.push({ path: scope.node.path, id, reason });
  };

  const taskRole = stack.service.taskDefinition.taskRole;
  const bedrock = 'arn:<AWS::Partition>:bedrock';
  ack(taskRole, `IAM5[Resource::${bedrock}:*::foundation-model/*]`, BEDROCK_WILDCARDS);
  ack(
    taskRole,
    `IAM5[Resource::${bedrock}:<AWS::Region>:<AWS::AccountId>:inference-profile/*]`,
    BEDROCK_WILDCARDS,
  );
  ack(
    taskRole,
    `IAM5[Resource::${bedrock}:<AWS::Region>:<AWS::AccountId>:application-inference-profile/*]`,
    BEDROCK_WILDCARDS,
  );
  ack(
    taskRole,
    'IAM5[Resource::*]',
    'bedrock:ListFoundationModels and bedrock:ListInferenceProfiles support no resource-level permissions; ' +
      'they are the only actions on Resource *.',
  );
  for (const table of stack.tables) {
    const logicalId = stack.getLogicalId(table.node.defaultChild as CfnElement);
    ack(
      taskRole,
      `IAM5[Resource::<${logicalId}.Arn>/index/*]`,
      "The indexes of this stack's own table (keys are looked up by id and by display prefix).",
    );
  }
  ack(
    stack.service.taskDefinition.obtainExecutionRole(),
    'IAM5[Resource::*]',
    'CDK default for the execution role: ecr:GetAuthorizationToken takes no resource.',
  );
  ack(
    stack.service.taskDefinition,
    'ECS2',
    'Only non-secret settings (mode, table prefix, port, region, service tier, drain timeout, log level) ' +
      'are plain environment variables; MASTER_API_KEY comes from Secrets Manager.',
  );
  ack(
    stack.masterKey,
    'SMG4',
    'The master key is an admin credential held by operators; automatic rotation would lock them out. ' +
      'Rotate by hand: put a new value in the secret, then force a new deployment of the service.',
  );
  if (stack.accessLogs) {
    ack(
      stack.accessLogs,
      'S1',
      'This bucket receives the load balancer access logs; logging it into itself would loop.',
    );
  } else {
    ack(
      stack.loadBalancer,
      'ELB2',
      'Environment-agnostic synthesis (no region): ELB access-log delivery needs the region. `cdk deploy` ' +
        'resolves the region, or pass -c region=…, and access logs are then on.',
    );
  }
  if (settings.allowedCidrs.some((c) => c === '0.0.0.0/0' || c === '::/0')) {
    ack(
      stack.node.findChild('AlbSecurityGroup'),
      'EC23',
      'The operator asked for an open gateway (allowedCidrs includes 0.0.0.0/0 or ::/0); every API call ' +
        'still needs an abproxy key.',
    );
  }
  return acknowledged;
}

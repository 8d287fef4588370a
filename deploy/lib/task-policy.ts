/**
 * The task role's permissions: exactly what `abproxy serve --mode team` calls, nothing with a wildcard
 * action. Kept apart from the stack so the reasoning about each ARN sits next to it.
 */
import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/** Converse/ConverseStream are authorized by InvokeModel/InvokeModelWithResponseStream. */
export const BEDROCK_INVOKE_ACTIONS = [
  'bedrock:InvokeModel',
  'bedrock:InvokeModelWithResponseStream',
  'bedrock:CountTokens',
] as const;

/** The model catalogue (alias resolution, /v1/models). */
export const BEDROCK_CATALOGUE_LIST_ACTIONS = [
  'bedrock:ListFoundationModels',
  'bedrock:ListInferenceProfiles',
] as const;

/** What the DynamoDB store issues (src/store/dynamodb.ts); no deletes: revoking a key is an update. */
export const DYNAMODB_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:DescribeTable',
] as const;

export function bedrockStatements(): iam.PolicyStatement[] {
  const inRegion = `arn:${Aws.PARTITION}:bedrock:${Aws.REGION}:${Aws.ACCOUNT_ID}`;
  return [
    new iam.PolicyStatement({
      sid: 'InvokeModels',
      actions: [...BEDROCK_INVOKE_ACTIONS],
      resources: [
        // Inference profiles (cross-region `us.`/`eu.`/`global.` ids and application profiles) are
        // resources of this account in the gateway's region: that is where the gateway calls them.
        `${inRegion}:inference-profile/*`,
        `${inRegion}:application-inference-profile/*`,
        // A profile routes each call to the foundation model in whichever region it picks, and IAM
        // checks that foundation-model ARN there too; `global.` profiles use an empty region. So the
        // region is `*`. Foundation models belong to no account (empty account field).
        `arn:${Aws.PARTITION}:bedrock:*::foundation-model/*`,
      ],
    }),
    new iam.PolicyStatement({
      sid: 'ReadModelCatalogue',
      actions: [...BEDROCK_CATALOGUE_LIST_ACTIONS],
      // List actions support no resource-level permissions.
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'ReadInferenceProfiles',
      actions: ['bedrock:GetInferenceProfile'],
      resources: [`${inRegion}:inference-profile/*`, `${inRegion}:application-inference-profile/*`],
    }),
  ];
}

export function dynamoStatement(tableArns: string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'TeamModeTables',
    actions: [...DYNAMODB_ACTIONS],
    resources: tableArns.flatMap((arn) => [arn, `${arn}/index/*`]),
  });
}

/** Builds the CDK app from context: settings, the stack, and the cdk-nag checks. */
import { App, type AppProps } from 'aws-cdk-lib';
import { AbproxyStack } from './abproxy-stack.ts';
import { type Acknowledgement, applyNag } from './nag.ts';
import { type DeploySettings, readSettings } from './settings.ts';

export const STACK_NAME = 'Abproxy';

export function buildApp(
  props: AppProps = {},
  env: Record<string, string | undefined> = process.env,
): { app: App; stack: AbproxyStack; settings: DeploySettings; acknowledged: Acknowledgement[] } {
  const app = new App(props);
  const settings = readSettings((key) => app.node.tryGetContext(key), env);
  if (settings.vpcId && (!settings.account || !settings.region)) {
    throw new Error(
      'context vpcId needs a concrete account and region to look the VPC up: set -c account=… -c region=… ' +
        '(or deploy with credentials, which set CDK_DEFAULT_ACCOUNT/REGION)',
    );
  }
  const stack = new AbproxyStack(app, STACK_NAME, {
    settings,
    description: 'abproxy: Anthropic Messages API gateway for Amazon Bedrock (team mode)',
    // Environment-agnostic unless a region (or a VPC lookup) pins it.
    ...(settings.region || settings.vpcId
      ? { env: { region: settings.region, account: settings.account } }
      : {}),
  });
  const acknowledged = applyNag(app, stack, settings);
  return { app, stack, settings, acknowledged };
}

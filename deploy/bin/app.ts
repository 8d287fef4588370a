/** CDK entry point (`npx cdk synth` in deploy/ runs this under Node's type stripping). */
import { buildApp } from '../lib/app.ts';

const { app } = buildApp();
app.synth();

/** Bedrock control-plane listings: foundation models and system-defined inference profiles. */
import { BedrockError, validationError } from './errors.ts';
import { type EmulatedModel, findModel, MODELS, type ProfileGeo, profilesInRegion } from './models.ts';

export const EMULATOR_ACCOUNT_ID = '123456789012';
const CREATED_AT = '2025-01-01T00:00:00.000Z';

const GEO_REGIONS: Record<ProfileGeo, string[]> = {
  us: ['us-east-1', 'us-east-2', 'us-west-2'],
  eu: ['eu-central-1', 'eu-west-1', 'eu-west-3'],
  apac: ['ap-northeast-1', 'ap-southeast-1', 'ap-southeast-2'],
  global: [],
};
const GEO_LABEL: Record<ProfileGeo, string> = { us: 'US', eu: 'EU', apac: 'APAC', global: 'Global' };

export function foundationModelArn(region: string, modelId: string): string {
  return `arn:aws:bedrock:${region}::foundation-model/${modelId}`;
}

function modelSummary(region: string, model: EmulatedModel) {
  const inferenceTypes = model.profileOnly ? ['INFERENCE_PROFILE'] : ['ON_DEMAND'];
  if (!model.profileOnly && model.profiles.length > 0) inferenceTypes.push('INFERENCE_PROFILE');
  return {
    modelArn: foundationModelArn(region, model.modelId),
    modelId: model.modelId,
    modelName: model.modelName,
    providerName: model.providerName,
    inputModalities: model.images ? ['TEXT', 'IMAGE'] : ['TEXT'],
    outputModalities: ['TEXT'],
    responseStreamingSupported: true,
    customizationsSupported: [],
    inferenceTypesSupported: inferenceTypes,
    modelLifecycle: { status: 'ACTIVE' },
  };
}

export function listFoundationModels(region: string, query: URLSearchParams) {
  const provider = query.get('byProvider')?.toLowerCase();
  const outputModality = query.get('byOutputModality');
  const inferenceType = query.get('byInferenceType');
  const summaries = MODELS.map((m) => modelSummary(region, m)).filter(
    (s) =>
      (!provider || s.providerName.toLowerCase().replace(/\s+/g, '') === provider.replace(/\s+/g, '')) &&
      (!outputModality || s.outputModalities.includes(outputModality)) &&
      (!inferenceType || s.inferenceTypesSupported.includes(inferenceType)),
  );
  return { modelSummaries: summaries };
}

export function getFoundationModel(region: string, identifier: string) {
  const id = identifier.replace(/^arn:aws:bedrock:[^:]*::foundation-model\//, '');
  const model = findModel(id);
  if (!model) throw validationError('The provided model identifier is invalid.');
  return { modelDetails: modelSummary(region, model) };
}

function profileSummary(
  region: string,
  account: string,
  entry: { id: string; geo: ProfileGeo; model: EmulatedModel },
) {
  const regions = entry.geo === 'global' ? [''] : GEO_REGIONS[entry.geo];
  return {
    inferenceProfileName: `${GEO_LABEL[entry.geo]} ${entry.model.providerName} ${entry.model.modelName}`,
    description: `Routes requests to ${entry.model.modelName} in ${entry.geo === 'global' ? 'all commercial regions' : regions.join(', ')}.`,
    createdAt: CREATED_AT,
    updatedAt: CREATED_AT,
    inferenceProfileArn: `arn:aws:bedrock:${region}:${account}:inference-profile/${entry.id}`,
    models: regions.map((r) => ({ modelArn: foundationModelArn(r, entry.model.modelId) })),
    inferenceProfileId: entry.id,
    status: 'ACTIVE',
    type: 'SYSTEM_DEFINED',
  };
}

const MAX_PAGE = 1000;

export function listInferenceProfiles(region: string, account: string, query: URLSearchParams) {
  const type = query.get('type');
  if (type && type !== 'SYSTEM_DEFINED' && type !== 'APPLICATION') {
    throw validationError(
      `1 validation error detected: Value '${type}' at 'typeEquals' failed to satisfy constraint: Member must satisfy enum value set: [SYSTEM_DEFINED, APPLICATION]`,
    );
  }
  const all =
    type === 'APPLICATION' ? [] : profilesInRegion(region).map((e) => profileSummary(region, account, e));
  const maxResults = query.has('maxResults') ? Number(query.get('maxResults')) : MAX_PAGE;
  if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > MAX_PAGE) {
    throw validationError(
      `1 validation error detected: Value '${query.get('maxResults')}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and ${MAX_PAGE}`,
    );
  }
  const token = query.get('nextToken');
  const start = token ? decodeToken(token) : 0;
  const page = all.slice(start, start + maxResults);
  const next = start + maxResults < all.length ? encodeToken(start + maxResults) : undefined;
  return next ? { inferenceProfileSummaries: page, nextToken: next } : { inferenceProfileSummaries: page };
}

export function getInferenceProfile(region: string, account: string, identifier: string) {
  const id = identifier.replace(/^arn:aws:bedrock:[^:]*:[^:]*:inference-profile\//, '');
  const entry = profilesInRegion(region).find((e) => e.id === id);
  if (!entry) throw new BedrockError('ResourceNotFoundException', `Inference profile ${id} not found.`);
  return profileSummary(region, account, entry);
}

function encodeToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64');
}

function decodeToken(token: string): number {
  try {
    const offset = JSON.parse(Buffer.from(token, 'base64').toString('utf8')).offset;
    if (Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // fall through
  }
  throw validationError('The pagination token is invalid.');
}

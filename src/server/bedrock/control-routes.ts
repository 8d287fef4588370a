/**
 * The control-plane reads Bedrock clients make at start-up, answered from the gateway's cached catalogue
 * in Bedrock's JSON shapes: ListFoundationModels, GetFoundationModel, ListInferenceProfiles (Claude Code
 * in Bedrock mode sends `GET /inference-profiles?type=SYSTEM_DEFINED`), GetInferenceProfile. A key limited
 * to some models sees only those.
 */
import { ApiError } from '../../anthropic/errors.ts';
import { modelAllowed } from '../../auth/model-globs.ts';
import { anthropicIdsOf } from '../../models/aliases.ts';
import { idOfArn } from '../../models/resolve.ts';
import type { CatalogueModel, CatalogueProfile } from '../../models/types.ts';
import type { AppDeps } from '../deps.ts';
import type { Ctx, Handler } from '../http/context.ts';
import { sendJson } from '../http/respond.ts';

function foundationModelArn(region: string, modelId: string): string {
  return `arn:aws:bedrock:${region}::foundation-model/${modelId}`;
}

function modelSummary(model: CatalogueModel, region: string) {
  return {
    modelArn: model.modelArn ?? foundationModelArn(region, model.modelId),
    modelId: model.modelId,
    modelName: model.name ?? model.modelId,
    providerName: model.provider ?? model.modelId.split('.')[0],
    inputModalities: [...model.inputModalities],
    outputModalities: [...model.outputModalities],
    responseStreamingSupported: true,
    customizationsSupported: [] as string[],
    inferenceTypesSupported: model.onDemand ? ['ON_DEMAND', 'INFERENCE_PROFILE'] : ['INFERENCE_PROFILE'],
    modelLifecycle: { status: model.active ? 'ACTIVE' : 'LEGACY' },
  };
}

function profileSummary(profile: CatalogueProfile, region: string) {
  return {
    inferenceProfileName: profile.id,
    description: `Routes requests to ${profile.modelIds.join(', ')}`,
    inferenceProfileArn: profile.arn,
    inferenceProfileId: profile.id,
    models: profile.modelIds.map((id) => ({ modelArn: foundationModelArn(region, id) })),
    status: profile.active ? 'ACTIVE' : 'INACTIVE',
    type: profile.type,
  };
}

function visible(ctx: Ctx, ids: readonly string[]): boolean {
  // A sign-in principal's key also carries its policy's models (see messages/resolve.ts).
  const key = ctx.key as (Ctx['key'] & { availableModels?: readonly string[] }) | undefined;
  if (key?.models === undefined && key?.availableModels === undefined) return true;
  // A Claude model goes by its Anthropic name too, as on the calls themselves.
  const names = [...ids, ...ids.flatMap(anthropicIdsOf)];
  return modelAllowed(key?.models, names) && modelAllowed(key?.availableModels, names);
}

export function listFoundationModelsHandler(deps: AppDeps): Handler {
  return async (ctx) => {
    const snapshot = await deps.catalogue.snapshot();
    const query = ctx.url.searchParams;
    const provider = query.get('byProvider')?.toLowerCase();
    // Bedrock's other filters, read from the summary itself: a client asking for embedding or
    // provisioned models must not be handed every text model.
    const output = query.get('byOutputModality');
    const inference = query.get('byInferenceType');
    const customization = query.get('byCustomizationType');
    const summaries = snapshot.models
      .filter((m) => visible(ctx, [m.modelId]))
      .filter((m) => !provider || (m.provider ?? m.modelId.split('.')[0] ?? '').toLowerCase() === provider)
      .map((m) => modelSummary(m, snapshot.region))
      .filter((m) => output === null || m.outputModalities.includes(output))
      .filter((m) => inference === null || m.inferenceTypesSupported.includes(inference))
      .filter((m) => customization === null || m.customizationsSupported.includes(customization));
    sendJson(ctx.res, 200, { modelSummaries: summaries });
  };
}

export function getFoundationModelHandler(deps: AppDeps): Handler {
  return async (ctx) => {
    const snapshot = await deps.catalogue.snapshot();
    const id = ctx.params.id ?? '';
    // An ARN by the model it names, whatever region it says (as the runtime calls read it).
    const wanted = idOfArn(id);
    const model = snapshot.models.find((m) => m.modelId === wanted || m.modelArn === id);
    if (!model || !visible(ctx, [model.modelId])) {
      throw new ApiError('not_found_error', `The model ${id.slice(0, 200)} was not found`);
    }
    sendJson(ctx.res, 200, { modelDetails: modelSummary(model, snapshot.region) });
  };
}

export function listInferenceProfilesHandler(deps: AppDeps): Handler {
  return async (ctx) => {
    const snapshot = await deps.catalogue.snapshot();
    const type = ctx.url.searchParams.get('type');
    if (type !== null && type !== 'SYSTEM_DEFINED' && type !== 'APPLICATION') {
      throw ApiError.invalid(`type must be SYSTEM_DEFINED or APPLICATION, not '${type.slice(0, 40)}'`);
    }
    const { maxResults, start } = pageOf(ctx.url.searchParams);
    const matching = snapshot.profiles
      .filter((p) => type === null || p.type === type)
      .filter((p) => visible(ctx, [p.id, ...p.modelIds]));
    const end = start + maxResults;
    const summaries = matching.slice(start, end).map((p) => profileSummary(p, snapshot.region));
    sendJson(
      ctx.res,
      200,
      end < matching.length
        ? { inferenceProfileSummaries: summaries, nextToken: pageToken(end) }
        : { inferenceProfileSummaries: summaries },
    );
  };
}

/** ListInferenceProfiles' page bounds (its API reference: maxResults 1 to 1000, the default the most). */
const MAX_PAGE = 1000;
const TOKEN_PREFIX = 'abp1.';

/** Where a page starts and how long it is, from `maxResults` and a `nextToken` this door issued. */
function pageOf(query: URLSearchParams): { maxResults: number; start: number } {
  const rawMax = query.get('maxResults');
  const maxResults = rawMax === null ? MAX_PAGE : Number(rawMax);
  if (rawMax !== null && !(/^\d{1,4}$/.test(rawMax) && maxResults >= 1 && maxResults <= MAX_PAGE)) {
    throw ApiError.invalid(
      `1 validation error detected: Value '${rawMax.slice(0, 20)}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and ${MAX_PAGE}`,
    );
  }
  const token = query.get('nextToken');
  if (token === null) return { maxResults, start: 0 };
  // The offset into the same filtered list, as the token's text: opaque to clients, checked here.
  const offset = token.startsWith(TOKEN_PREFIX) ? token.slice(TOKEN_PREFIX.length) : '';
  if (!/^[1-9]\d{0,8}$/.test(offset)) throw ApiError.invalid('The pagination token is invalid.');
  return { maxResults, start: Number(offset) };
}

function pageToken(offset: number): string {
  return `${TOKEN_PREFIX}${offset}`;
}

export function getInferenceProfileHandler(deps: AppDeps): Handler {
  return async (ctx) => {
    const snapshot = await deps.catalogue.snapshot();
    const id = ctx.params.id ?? '';
    // A system profile's ARN by its id, whatever account and region it names (as the runtime calls read
    // it); an application profile's by its own ARN.
    const wanted = idOfArn(id);
    const profile = snapshot.profiles.find((p) => p.id === wanted || p.arn === id);
    if (!profile || !visible(ctx, [profile.id, ...profile.modelIds])) {
      throw new ApiError('not_found_error', `The inference profile ${id.slice(0, 200)} was not found`);
    }
    sendJson(ctx.res, 200, profileSummary(profile, snapshot.region));
  };
}

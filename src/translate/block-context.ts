/** What the block converters of one request share: the model's abilities, the name maps, the warnings. */
import type { ModelCapabilities } from '../models/types.ts';
import type { DocumentNames } from './document-name.ts';
import type { ToolNameMap } from './tool-names.ts';

export interface BlockContext {
  modelId: string;
  caps: ModelCapabilities;
  signingSecret: string;
  toolNames: ToolNameMap;
  documentNames: DocumentNames;
  /** A Set so that a step repeated on every turn is reported once. */
  warnings: Set<string>;
}

/**
 * Anthropic-defined tools that the client runs itself (`bash_…`, `text_editor_…`, `memory_…`): Anthropic
 * knows their schemas, Converse does not. For a model reached through Converse they become ordinary
 * tools with the schema and a description from Anthropic's documentation, under the name the client
 * gave; the model's calls come back under that name, so the client's own handler runs them as before.
 * (Server tools, which Anthropic runs, are another matter: web search and fetch run in the gateway.)
 */
import type { Tool } from '../anthropic/types.ts';

interface Definition {
  description: string;
  input_schema: Record<string, unknown>;
}

const str = { type: 'string' } as const;

const EDIT_FIELDS = {
  path: { type: 'string', description: 'Absolute path to the file or directory.' },
  file_text: { type: 'string', description: 'create: the content of the new file.' },
  old_str: { type: 'string', description: 'str_replace: the exact text to replace (must match once).' },
  new_str: { type: 'string', description: 'str_replace: the new text; insert: the text to insert.' },
  insert_line: { type: 'integer', description: 'insert: the line after which to insert (0: at the start).' },
  view_range: {
    type: 'array',
    items: { type: 'integer' },
    description: 'view: [first, last] line numbers to show (-1 as last: to the end).',
  },
};

const DEFINITIONS: [RegExp, Definition][] = [
  [
    /^bash_/,
    {
      description:
        'Run a command in a persistent bash shell and get its output. Set restart to true to start a new shell.',
      input_schema: {
        type: 'object',
        properties: { command: { ...str, description: 'The command to run.' }, restart: { type: 'boolean' } },
      },
    },
  ],
  [
    /^text_editor_/,
    {
      description:
        'View, create and edit text files: view a file or directory, create a file, replace an exact string, or insert text after a line.',
      input_schema: {
        type: 'object',
        properties: {
          command: { type: 'string', enum: ['view', 'create', 'str_replace', 'insert', 'undo_edit'] },
          ...EDIT_FIELDS,
        },
        required: ['command', 'path'],
      },
    },
  ],
  [
    /^memory_/,
    {
      description:
        'Your memory directory (/memories), kept across conversations: view, create, edit, delete and rename files in it. Check it before you start a task.',
      input_schema: {
        type: 'object',
        properties: {
          command: { type: 'string', enum: ['view', 'create', 'str_replace', 'insert', 'delete', 'rename'] },
          ...EDIT_FIELDS,
          insert_text: { type: 'string', description: 'insert: the text to insert.' },
          old_path: str,
          new_path: str,
        },
        required: ['command'],
      },
    },
  ],
];

/** The tool as an ordinary one a Converse model can call, or undefined when it is not a client-run one. */
export function asCustomTool(tool: Tool): Tool | undefined {
  const type = (tool as { type?: string }).type ?? '';
  const definition = DEFINITIONS.find(([pattern]) => pattern.test(type))?.[1];
  if (!definition) return undefined;
  return {
    name: tool.name,
    description: definition.description,
    input_schema: definition.input_schema,
    ...(tool.cache_control ? { cache_control: tool.cache_control } : {}),
  } as Tool;
}

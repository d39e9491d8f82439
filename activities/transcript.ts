import type { UserInput } from '../src/engine/types';

/** A readable one-line form of what the user sent, for the transcript. */
export function describeInput(input: UserInput): string {
  switch (input.kind) {
    case 'text':
      return input.text;
    case 'button':
      return input.text ?? input.value;
    case 'command':
      return input.args ? `${input.command} ${input.args}` : input.command;
    case 'media':
      return input.media.caption ?? `[${input.media.type}]`;
    case 'location':
      return `[location ${input.latitude},${input.longitude}]`;
    case 'contact':
      return `[contact ${input.name ?? ''} ${input.phone}]`.replace(/\s+/g, ' ');
  }
}

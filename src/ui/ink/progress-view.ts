/** A spinner with a label that the running task may update ("waiting for abproxy-keys…"). */
import { Text } from 'ink';
import { createElement as h, type ReactElement, useEffect, useState } from 'react';

export const SPINNER_FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export type ProgressState = { phase: 'running'; text: string } | { phase: 'done' | 'failed'; text: string };

export function ProgressLine({ state, frame }: { state: ProgressState; frame: number }): ReactElement {
  switch (state.phase) {
    case 'running':
      return h(
        Text,
        null,
        h(Text, { color: 'cyan' }, SPINNER_FRAMES[frame % SPINNER_FRAMES.length]),
        ` ${state.text}`,
      );
    case 'done':
      return h(Text, null, h(Text, { color: 'green' }, '✔'), ` ${state.text}`);
    case 'failed':
      return h(Text, null, h(Text, { color: 'red' }, '✖'), ` ${state.text}`);
    default: {
      const never: never = state;
      return never;
    }
  }
}

/** Subscribes to a progress source and animates while it runs. */
export function Progress({
  subscribe,
  initial,
}: {
  subscribe: (listener: (state: ProgressState) => void) => void;
  initial: ProgressState;
}): ReactElement {
  const [state, setState] = useState(initial);
  const [frame, setFrame] = useState(0);
  useEffect(() => subscribe(setState), [subscribe]);
  useEffect(() => {
    if (state.phase !== 'running') return;
    const timer = setInterval(() => setFrame((f) => f + 1), 80);
    return () => clearInterval(timer);
  }, [state.phase]);
  return h(ProgressLine, { state, frame });
}

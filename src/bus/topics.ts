// The bus's topics, event.<kind>.<camera>, and which subscriptions can ever match one. The bus applies only
// those to the trie every published message is matched against, so that trie stays as small as the camera
// list whatever peers send (what libzmq keeps of the rest is bounded by the bus process's memory cap).
import type { EventKind } from '../events/store.js';

export const EVENT_KINDS: readonly EventKind[] = ['motion', 'object', 'plate'];

export const eventTopic = (kind: EventKind, camera: string): string => `event.${kind}.${camera}`;

/**
 * True when `prefix` is a prefix of some event.<kind>.<camera> of these cameras (the empty prefix, 'event.',
 * 'event.object.market' for market-east all are); false for anything no published message can start with.
 */
export function subscriptionCanMatch(prefix: Buffer, cameras: ReadonlySet<string>): boolean {
  // latin1 maps each byte to one character, so a non-ASCII byte can never equal a topic character.
  const text = prefix.toString('latin1');
  for (const kind of EVENT_KINDS) {
    const head = `event.${kind}.`;
    if (head.startsWith(text)) return true;
    if (!text.startsWith(head)) continue;
    const rest = text.slice(head.length);
    for (const camera of cameras) if (camera.startsWith(rest)) return true;
  }
  return false;
}

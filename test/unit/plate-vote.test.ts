import { describe, expect, it } from 'vitest';
import type { PlateReading } from '../../src/plates/plate-reader.js';
import { PlateVote } from '../../src/plates/plate-vote.js';

function reading(text: string, confidences: number[], alternatives: Record<number, string> = {}): PlateReading {
  const chars = [...text].map((char, i) => ({
    char,
    confidence: confidences[i] ?? 0.9,
    alternatives: alternatives[i] ? [{ char: alternatives[i]!, confidence: 0.3 }] : [],
  }));
  return { text, score: 0.9, box: [0, 0, 100, 30], chars, colour: 'blue', valid: true };
}

describe('PlateVote', () => {
  it('waits for enough reads, then votes per character weighted by confidence', () => {
    const vote = new PlateVote(3);
    vote.add(reading('贵F12345', [0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]));
    vote.add(reading('贵F12B45', [0.9, 0.9, 0.9, 0.9, 0.4, 0.9, 0.9], { 4: '3' }));
    expect(vote.result()).toBeUndefined();
    vote.add(reading('贵F12345', [0.9, 0.9, 0.9, 0.9, 0.8, 0.9, 0.9]));
    const voted = vote.result()!;
    expect(voted.text).toBe('贵F12345');
    expect(voted.reads).toBe(3);
    // Position 4 was disputed: its confidence says so, and B is the runner-up.
    expect(voted.chars[4]!.confidence).toBeLessThan(voted.chars[0]!.confidence);
    expect(voted.chars[4]!.alternatives[0]!.char).toBe('B');
    expect(voted.best.text).toBe('贵F12345');
  });

  it('ignores invalid reads and does not mix plate lengths', () => {
    const vote = new PlateVote(2);
    vote.add({ ...reading('贵F1', [0.9, 0.9, 0.9]), valid: false });
    vote.add(reading('贵FD12345', [0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]));
    vote.add(reading('贵F12345', [0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]));
    expect(vote.result()).toBeUndefined();
    vote.add(reading('贵FD12345', [0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]));
    expect(vote.result()).toMatchObject({ text: '贵FD12345', reads: 2 });
  });
});

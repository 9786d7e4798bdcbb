// Every plate a reading of the same car could say: what a full plate in a search also finds.
import { BODY, CITY_LETTERS, CONFUSABLE, PROVINCES, SUFFIXES } from './plate-rules.js';

/**
 * Every plate within one edit of `plate` (substitution, deletion, insertion of a plate character), with
 * confusable characters substituted for free: what a reading of the same car could say.
 */
export function plateVariants(plate: string): string[] {
  const chars = [...plate];
  const out = new Set<string>([plate]);
  const alphabet = (i: number) => (i === 0 ? PROVINCES : i === 1 ? CITY_LETTERS : BODY + SUFFIXES);
  for (let i = 0; i < chars.length; i++) {
    for (const c of alphabet(i)) out.add([...chars.slice(0, i), c, ...chars.slice(i + 1)].join(''));
    out.add([...chars.slice(0, i), ...chars.slice(i + 1)].join(''));
  }
  for (let i = 2; i <= chars.length; i++) for (const c of BODY) out.add([...chars.slice(0, i), c, ...chars.slice(i)].join(''));
  // Confusables on top of one real error: 贵F12345 also finds 贵F1234S with another character misread.
  for (const v of [...out]) {
    const vc = [...v];
    vc.forEach((c, i) => {
      for (const alt of CONFUSABLE[c] ?? '') {
        const swapped = [...vc];
        swapped[i] = alt;
        out.add(swapped.join(''));
      }
    });
  }
  return [...out];
}

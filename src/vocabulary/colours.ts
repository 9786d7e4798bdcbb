// The colour names officers use and vigil reads, once: the colour reader votes over them, the search parser
// and the page translate them, the API validates them.

import type { ColourName } from '../contract/types.js';

export type { ColourName };
export const PALETTE = ['red', 'orange', 'yellow', 'green', 'cyan', 'blue', 'purple', 'pink', 'brown', 'white', 'grey', 'black'] as const satisfies readonly ColourName[];
// Every name the API's type allows is a colour vigil can read (a compile error otherwise).
const EVERY_COLOUR: Exclude<ColourName, (typeof PALETTE)[number]> extends never ? true : never = true;
void EVERY_COLOUR;

export const CHINESE: Record<ColourName, string> = {
  red: '红',
  orange: '橙',
  yellow: '黄',
  green: '绿',
  cyan: '青',
  blue: '蓝',
  purple: '紫',
  pink: '粉',
  brown: '棕',
  white: '白',
  grey: '灰',
  black: '黑',
};

/**
 * Colours a search also accepts for another, as near matches ranked below the exact colour: pairs a camera and
 * a witness see differently. One family is white/silver/grey: vigil has no `silver` (the parser reads silver
 * and 银色 as grey), a silver car reads grey or white depending on the sky it reflects, and a white car at dusk
 * or in shade reads grey (on a street at dusk every white and silver car was stored as grey). The other is
 * dark blue/black: navy clothing and dark-blue paint read black, and a witness may say black of dark blue and
 * blue of what vigil read black. Symmetric, and not transitive: white does not reach black through grey.
 * Grey and black are not neighbours: "grey"/"silver" means a light car to a witness, and black is the
 * commonest vehicle colour, so each search would drag in every black car.
 */
export const COLOUR_NEIGHBOURS: Readonly<Partial<Record<ColourName, readonly ColourName[]>>> = Object.freeze({
  white: ['grey'],
  grey: ['white'],
  blue: ['black'],
  black: ['blue'],
});

/** The colours a search for `colour` matches: the colour itself first, then its neighbours. */
export function colourWithNeighbours(colour: ColourName): ColourName[] {
  return [colour, ...(COLOUR_NEIGHBOURS[colour] ?? [])];
}

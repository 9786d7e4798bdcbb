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

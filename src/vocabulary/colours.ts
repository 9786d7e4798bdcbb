// The colour names officers use and vigil reads, once: the colour reader votes over them, the search parser
// and the page translate them, the API validates them.

export const PALETTE = ['red', 'orange', 'yellow', 'green', 'cyan', 'blue', 'purple', 'pink', 'brown', 'white', 'grey', 'black'] as const;
export type ColourName = (typeof PALETTE)[number];

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

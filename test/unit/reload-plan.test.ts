// Which cameras a config reload touches: only those whose own settings changed, unless a setting every
// camera is built with changed; settings read only at start are reported, never applied.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { planReload } from '../../src/daemon/reload-plan.js';

const cfg = (cameras: string, extra = '') =>
  parseConfig(`cameras:\n${cameras}\n${extra}`, '/etc/vigil/vigil.yaml').config;
const cam = (name: string, more = '') => `  - { name: ${name}, url: "rtsp://10.0.0.1/${name}", location: market${more} }`;
const running = (...names: string[]) => new Set(names);

describe('planReload', () => {
  it('adds, removes, changes and leaves alone by camera', () => {
    const before = cfg([cam('a'), cam('b'), cam('c')].join('\n'));
    const after = cfg([cam('a'), cam('c', ', detect: { fps: 2 }'), cam('d'), cam('e', ', enabled: false')].join('\n'));
    expect(planReload(before, after, running('a', 'b', 'c'))).toEqual({ added: ['d'], removed: ['b'], changed: ['c'], unchanged: ['a'], restartRequired: [] });
  });

  it('disabling a running camera removes it; enabling starts it', () => {
    const before = cfg([cam('a'), cam('b', ', enabled: false')].join('\n'));
    const after = cfg([cam('a', ', enabled: false'), cam('b')].join('\n'));
    expect(planReload(before, after, running('a'))).toMatchObject({ added: ['b'], removed: ['a'], changed: [], unchanged: [] });
  });

  it('rebuilds every camera when a setting they are all built with changes', () => {
    const before = cfg([cam('a'), cam('b')].join('\n'));
    const after = cfg([cam('a'), cam('b')].join('\n'), 'motion: { threshold: 30 }');
    expect(planReload(before, after, running('a', 'b'))).toMatchObject({ changed: ['a', 'b'], unchanged: [] });
  });

  it('reports settings read only at start and does not rebuild cameras for them', () => {
    const before = cfg(cam('a'));
    const after = cfg(cam('a'), 'api: { port: 9999 }\ndetector: { workers: 2 }\nplates: { enabled: false }\nffmpeg: { path: /usr/bin/ffmpeg }');
    expect(planReload(before, after, running('a'))).toEqual({
      added: [], removed: [], changed: [], unchanged: ['a'], restartRequired: ['api.port', 'detector', 'ffmpeg.path', 'plates.enabled'],
    });
  });
});

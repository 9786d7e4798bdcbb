// The real street footage in ../shared/fixtures/video as mounts for the test RTSP server: people walking
// on a campus (10 fps) and cars in a parking lot (12.5 fps). Fails naming the missing fixture.
import { annexB } from './media.js';
import { sharedFixture } from './media-paths.js';
import type { MountSpec } from './rtsp-process.js';

export interface StreetClips {
  campus: MountSpec;
  lot: MountSpec;
}

export async function streetClips(): Promise<StreetClips> {
  const [campus, lot] = await Promise.all([
    annexB(sharedFixture('video/opencv-vtest-pedestrians-720p10.mp4')),
    annexB(sharedFixture('video/intel-car-detection-720p12.5.mp4')),
  ]);
  return { campus: { name: 'campus', file: campus, fps: 10 }, lot: { name: 'lot', file: lot, fps: 12.5 } };
}

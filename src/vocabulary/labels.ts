// The object labels vigil speaks of, once: the detector's class names, the ones a street camera keeps, and the
// groups the stages reason with (which labels are vehicles, which carry plates, which are two-wheelers). The
// config schema, the decoders, the tracker, colour, plates and the search parser all derive from these.

// COCO class names, indexed by the class id that COCO-trained detectors emit. The order is the 80-class
// "contiguous" order (not the sparse 1..90 annotation ids) that every common export (YOLOv8, YOLOX, NanoDet,
// CenterNet) uses for its class channels.
export const COCO_LABELS: readonly string[] = Object.freeze([
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
  'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow',
  'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee',
  'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle',
  'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange',
  'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant', 'bed',
  'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone', 'microwave', 'oven',
  'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors', 'teddy bear', 'hair drier', 'toothbrush',
]);

/** What a street camera usually cares about; everything else is noise by default (detector.classes). */
export const DEFAULT_CLASSES = ['person', 'bicycle', 'car', 'motorcycle', 'bus', 'truck'] as const;

/** Score thresholds that differ from detector.score_threshold by default, chosen on the evaluation set
 * (`npm run bench -- accuracy`, README "Accuracy"). */
export const DEFAULT_CLASS_THRESHOLDS: Readonly<Record<string, number>> = { person: 0.45 };

/** Ridden two-wheelers (detector.riders): a bike this sure counts when a person at least `rider` sure sits
 * on it. Chosen on street CCTV (`npm run bench -- two-wheelers`, README "Two-wheelers"). */
export const DEFAULT_RIDER_THRESHOLDS = { bike: 0.15, rider: 0.4 } as const;

/** Vehicles on four or more wheels: a body colour, and a plate. */
export const FOUR_WHEELERS: readonly string[] = ['car', 'truck', 'bus'];
/** Ridden vehicles: the colour is read lower in the box (the rider is above), a motorcycle has a plate. */
export const TWO_WHEELERS: readonly string[] = ['motorcycle', 'bicycle'];
/** Every vehicle label. */
export const VEHICLES: readonly string[] = [...FOUR_WHEELERS, ...TWO_WHEELERS];
/** Vehicles that carry a licence plate: the ones the plate reader looks at, and what "vehicle"/车 means in a search. */
export const PLATED_VEHICLES: readonly string[] = ['car', 'motorcycle', 'bus', 'truck'];

export const isVehicle = (label: string): boolean => VEHICLES.includes(label);
export const isTwoWheeler = (label: string): boolean => TWO_WHEELERS.includes(label);

/**
 * Labels the tracker lets a track change between (a detector calls the same vehicle car in one frame and
 * truck in the next); a person never becomes a vehicle.
 */
export function labelGroup(label: string): string {
  return FOUR_WHEELERS.includes(label) ? 'vehicle' : TWO_WHEELERS.includes(label) ? 'two-wheeler' : label;
}

/**
 * Labels a search also accepts for another, as near matches ranked below the exact label: the confusions the
 * detector makes between what a witness tells apart. COCO has no SUV, pickup or van, so the detector calls them
 * `truck` (on footage of a street at dusk it called every SUV, and a red sedan seen from above, a truck); a
 * witness's "car" is often one of those, and a "van" or "pickup" (the parser's truck) is often labelled car.
 * Symmetric: the confusion runs both ways.
 * Left out on purpose: `bus` (a witness's "car" is not a bus, and no footage showed the detector calling a car
 * one; when a search finds nothing, the relaxations still offer other vehicle types), and motorcycle/bicycle (no
 * measurement shows the detector mixing them up, the parser already files e-bikes and scooters under motorcycle,
 * and as neighbours they would bring every bicycle into every "motorbike" search).
 */
export const LABEL_NEIGHBOURS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  car: ['truck'],
  truck: ['car'],
});

/** The labels a search for `labels` matches: each label asked for, then its neighbours not asked for themselves. */
export function labelsWithNeighbours(labels: readonly string[]): string[] {
  const out = [...labels];
  for (const l of labels) for (const n of LABEL_NEIGHBOURS[l] ?? []) if (!out.includes(n)) out.push(n);
  return out;
}

/**
 * The traffic categories of flow classification (issue #9) and how they are written onto a conntrack
 * entry's mark, so QoS (issue #10) can match them in nftables without knowing the classifier.
 * No node:* imports: the frontend imports this file too.
 *
 * Net-Pulse owns only the top byte of the ct mark (CT_MARK_MASK); the low 24 bits are left to other
 * tools (firewalld, wg-quick, Docker), and every write masks. A mark of 0 in that byte means "not
 * labelled yet".
 */

export const TRAFFIC_CATEGORIES = ['voice', 'video', 'web', 'file', 'background', 'other', 'unknown'] as const;

export type TrafficCategory = (typeof TRAFFIC_CATEGORIES)[number];

/** The bits of the conntrack mark that carry Net-Pulse's category. */
export const CT_MARK_MASK = 0xff000000;
export const CT_MARK_SHIFT = 24;

/** The category id stored in the mark's top byte: 1 = voice … 7 = unknown (0 = not labelled). */
export function categoryMark(category: TrafficCategory): number {
  return ((TRAFFIC_CATEGORIES.indexOf(category) + 1) << CT_MARK_SHIFT) >>> 0;
}

/** The category a ct mark carries, or null when Net-Pulse has not labelled the flow. */
export function categoryFromMark(mark: number): TrafficCategory | null {
  const id = (mark >>> CT_MARK_SHIFT) & 0xff;
  return id >= 1 && id <= TRAFFIC_CATEGORIES.length ? TRAFFIC_CATEGORIES[id - 1]! : null;
}

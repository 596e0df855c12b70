/**
 * The category table: domain suffix → category (shipped, editable from the API) and port fallbacks, and the
 * one function that labels a flow from what is known about it. Pure; the categories and their ct-mark
 * encoding are src/shared/traffic-categories.ts (the contract with QoS).
 */
import { TRAFFIC_CATEGORIES, type TrafficCategory } from '../shared/traffic-categories.js';

export interface DomainRule {
  /** A domain; it matches itself and every name below it ("googlevideo.com" matches "rr3.googlevideo.com"). */
  suffix: string;
  category: TrafficCategory;
}

export interface PortRule {
  protocol: 'tcp' | 'udp' | 'any';
  /** Server port (the original direction's destination), a range when portEnd is set. */
  port: number;
  portEnd?: number;
  category: TrafficCategory;
}

export interface CategoryTable {
  domains: DomainRule[];
  ports: PortRule[];
}

const d = (category: TrafficCategory, ...suffixes: string[]): DomainRule[] => suffixes.map((suffix) => ({ suffix, category }));

/** Shipped with the product. Longest suffix wins, so a specific rule can override a broad one. */
export const DEFAULT_CATEGORY_TABLE: CategoryTable = {
  domains: [
    ...d('video', 'googlevideo.com', 'youtube.com', 'ytimg.com', 'youtube-nocookie.com', 'netflix.com', 'nflxvideo.net', 'nflxso.net', 'nflximg.net', 'twitch.tv', 'ttvnw.net', 'jtvnw.net', 'vimeo.com', 'vimeocdn.com', 'disneyplus.com', 'dssott.com', 'bamgrid.com', 'primevideo.com', 'aiv-cdn.net', 'aiv-delivery.net', 'hulu.com', 'hulustream.com', 'max.com', 'hbomaxcdn.com', 'dailymotion.com', 'dmcdn.net', 'tiktokcdn.com', 'tiktokv.com', 'byteoversea.com', 'crunchyroll.com', 'plex.tv', 'plex.direct', 'googlevideo.l.google.com'),
    ...d('voice', 'zoom.us', 'zoom.com', 'zoomgov.com', 'teams.microsoft.com', 'teams.live.com', 'skype.com', 'meet.google.com', 'discord.gg', 'discord.media', 'webex.com', 'whatsapp.net', 'signal.org', 'facetime.apple.com', 'jitsi.net', 'meet.jit.si', 'gotomeeting.com', 'ringcentral.com'),
    ...d('file', 'steamcontent.com', 'steamserver.net', 'dl.google.com', 'dropbox.com', 'dropboxusercontent.com', 'onedrive.live.com', '1drv.com', 'sharepoint.com', 'icloud-content.com', 'mega.nz', 'mega.co.nz', 'wetransfer.com', 'box.com', 'objects.githubusercontent.com', 'releases.ubuntu.com', 'cdimage.debian.org', 'epicgames-download1.akamaized.net', 'download.epicgames.com', 'origin-a.akamaihd.net', 'blzddist1-a.akamaihd.net', 'xboxlive.com', 'assets1.xboxlive.com', 'playstation.net'),
    ...d('background', 'windowsupdate.com', 'update.microsoft.com', 'delivery.mp.microsoft.com', 'events.data.microsoft.com', 'swcdn.apple.com', 'mesu.apple.com', 'updates.cdn-apple.com', 'gs.apple.com', 'push.apple.com', 'ntp.org', 'time.apple.com', 'time.windows.com', 'crashlytics.com', 'app-measurement.com', 'firebaselogging-pa.googleapis.com', 'mtalk.google.com', 'deb.debian.org', 'security.debian.org', 'archive.ubuntu.com', 'security.ubuntu.com', 'snapcraft.io', 'flathub.org', 'docker.io', 'registry-1.docker.io', 'doubleclick.net', 'googlesyndication.com'),
  ],
  ports: [
    { protocol: 'udp', port: 3478, portEnd: 3481, category: 'voice' }, // STUN/TURN (WebRTC calls, Teams)
    { protocol: 'udp', port: 19302, portEnd: 19309, category: 'voice' }, // Google STUN (Meet)
    { protocol: 'udp', port: 8801, portEnd: 8810, category: 'voice' }, // Zoom media
    { protocol: 'any', port: 5060, portEnd: 5061, category: 'voice' }, // SIP
    { protocol: 'udp', port: 50000, portEnd: 50019, category: 'voice' }, // Discord, Teams media
    { protocol: 'tcp', port: 1935, category: 'video' }, // RTMP
    { protocol: 'any', port: 554, category: 'video' }, // RTSP
    { protocol: 'tcp', port: 80, category: 'web' },
    { protocol: 'tcp', port: 8080, category: 'web' },
    { protocol: 'tcp', port: 21, category: 'file' },
    { protocol: 'tcp', port: 445, category: 'file' },
    { protocol: 'tcp', port: 873, category: 'file' },
    { protocol: 'any', port: 6881, portEnd: 6889, category: 'file' }, // BitTorrent
    { protocol: 'any', port: 53, category: 'background' },
    { protocol: 'tcp', port: 853, category: 'background' }, // DNS over TLS
    { protocol: 'udp', port: 123, category: 'background' }, // NTP
    { protocol: 'udp', port: 67, portEnd: 68, category: 'background' }, // DHCP
    { protocol: 'tcp', port: 5223, category: 'background' }, // Apple push
    { protocol: 'tcp', port: 5228, category: 'background' }, // Google push
    { protocol: 'tcp', port: 993, category: 'background' }, // IMAPS
    { protocol: 'tcp', port: 587, category: 'background' }, // mail submission
  ],
};

export interface FlowFacts {
  protocol: 'tcp' | 'udp' | string;
  /** The server's port (the original direction's destination). */
  dstPort: number;
  /** The name from the TLS SNI, or from a DNS answer for the server's address; null when none is known. */
  domain: string | null;
  /**
   * True when the name is only a DNS answer for the server's address (not the flow's own SNI): then a port
   * rule wins over it (a resolver at an address that also serves a named site is still DNS).
   */
  domainFromAddress?: boolean;
}

/** A compiled table: suffix look-up by walking the name's labels (no scan of the rules). */
export interface Classifier {
  classify(facts: FlowFacts): TrafficCategory;
  /** The category the domain table gives a name, or null when no suffix matches. */
  categoryOfDomain(name: string): TrafficCategory | null;
  readonly table: CategoryTable;
}

export function createClassifier(table: CategoryTable): Classifier {
  const bySuffix = new Map<string, TrafficCategory>();
  for (const r of table.domains) bySuffix.set(r.suffix.toLowerCase().replace(/\.$/, ''), r.category);
  const categoryOfDomain = (name: string): TrafficCategory | null => {
    let n = name.toLowerCase();
    for (let guard = 0; guard < 128; guard++) {
      const hit = bySuffix.get(n);
      if (hit !== undefined) return hit;
      const dot = n.indexOf('.');
      if (dot < 0) return null;
      n = n.slice(dot + 1);
    }
    return null;
  };
  const portCategory = (protocol: string, port: number): TrafficCategory | null => {
    for (const r of table.ports) {
      if (r.protocol !== 'any' && r.protocol !== protocol) continue;
      if (port >= r.port && port <= (r.portEnd ?? r.port)) return r.category;
    }
    return null;
  };
  return {
    table,
    categoryOfDomain,
    classify({ protocol, dstPort, domain, domainFromAddress = false }) {
      const byPort = portCategory(protocol, dstPort);
      if (domainFromAddress && byPort !== null) return byPort;
      if (domain !== null) {
        const byName = categoryOfDomain(domain);
        if (byName !== null) return byName;
      }
      if (byPort !== null) return byPort;
      // A named web flow that the table does not list is browsing; a 443 flow without a name is unknown.
      if (dstPort === 443) return domain !== null ? 'web' : 'unknown';
      return 'other';
    },
  };
}

const SUFFIX_RE = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,62})?)(\.[a-z0-9_]([a-z0-9_-]{0,62})?)*$/;

export const MAX_DOMAIN_RULES = 5000;
export const MAX_PORT_RULES = 500;

/** Checks a table sent by a user; returns the problems (empty when it is fine). The API's schema checks shapes. */
export function validateCategoryTable(table: CategoryTable): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const [i, r] of table.domains.entries()) {
    const s = r.suffix.toLowerCase().replace(/\.$/, '');
    if (!SUFFIX_RE.test(s)) problems.push(`domains[${i}].suffix "${r.suffix}" is not a domain name`);
    if (seen.has(s)) problems.push(`domains[${i}].suffix "${r.suffix}" is listed twice`);
    seen.add(s);
    if (!TRAFFIC_CATEGORIES.includes(r.category)) problems.push(`domains[${i}].category "${r.category}" is not one of ${TRAFFIC_CATEGORIES.join(', ')}`);
  }
  for (const [i, r] of table.ports.entries()) {
    if (r.portEnd !== undefined && r.portEnd < r.port) problems.push(`ports[${i}]: port_end ${r.portEnd} is below port ${r.port}`);
  }
  return problems;
}

/** The table with suffixes written the one way the classifier compares them. */
export function normalizeCategoryTable(table: CategoryTable): CategoryTable {
  return { domains: table.domains.map((r) => ({ suffix: r.suffix.toLowerCase().replace(/\.$/, ''), category: r.category })), ports: table.ports.map((r) => ({ ...r })) };
}

import type { Sides } from '../domain/types.js';
import type { FolderSelection } from '../engine/folder-map.js';
import type { TrafficLimits } from '../engine/traffic.js';
import { counted } from '../reporting/plural.js';
import type { Profile } from './profile-schema.js';
import type { ProfileCatalog } from './profile-catalog.js';

/**
 * The profile of one side: the one named with --from-profile/--to-profile, else the one whose
 * host names include the account URL's host, else generic. An unparsable URL gets generic here
 * and its own error when the side is opened.
 */
export function profileForSide(catalog: ProfileCatalog, name: string | undefined, url: string, option: string): Profile {
  if (name !== undefined) return catalog.get(name, option);
  let host = '';
  try {
    host = new URL(url).hostname;
  } catch {
    // reported by parseAccountUrl when the side is opened
  }
  return catalog.detect(host.replace(/^\[(.*)\]$/, '$1'));
}

/** What a run's options become once both sides' profiles are applied. */
export interface ProfiledRun {
  connections: number;
  selection: FolderSelection;
  /** Only for commands that move mail (given `traffic`). */
  traffic?: TrafficLimits;
  /** What the profiles changed, one line each, for the user to see (and override). */
  notices: string[];
}

/**
 * Applies the parts of two profiles that concern the run as a whole (the stores apply the rest:
 * special-use names, size limit, dropped flags). Options the user gave always win.
 *
 * - Connections: the engine runs one number of folders at once for both sides, so the lower of
 *   the two providers' caps limits both.
 * - Source folders the source profile leaves out are excluded, after the user's --exclude.
 * - A source folder named like one the destination reserves is mapped to `<name>_renamed`,
 *   after the user's --map (which wins).
 * - Rate limits and daily caps the user did not set come from the profiles (when the command
 *   moves mail): download limits from the source's, upload limits from the destination's, the
 *   lower of the two for messages per second.
 */
export function applyProfiles(profiles: Sides<Profile>, requested: { connections: number; selection: FolderSelection; traffic?: TrafficLimits }): ProfiledRun {
  const { source, dest } = profiles;
  const notices: string[] = [];

  let connections = requested.connections;
  for (const p of [source, dest]) {
    const cap = p.limits.connections;
    if (cap != null && cap < connections) {
      notices.push(`profile ${p.name} allows ${counted(cap, 'connection')} per account: --connections lowered from ${connections} to ${cap} (one number serves both sides)`);
      connections = cap;
    }
  }

  const exclude = [...requested.selection.exclude];
  if (source.folders.exclude.length > 0) {
    exclude.push(...source.folders.exclude.map((re) => new RegExp(re)));
    notices.push(`profile ${source.name} leaves out source folders matching ${source.folders.exclude.join(', ')}`);
  }
  const map = [...requested.selection.map, ...dest.quirks.reservedFolderNames.map((name) => ({ from: name, to: `${name}_renamed`, ifPresent: true }))];
  if (requested.traffic === undefined) return { connections, selection: { ...requested.selection, exclude, map }, notices };
  const traffic: TrafficLimits = { ...requested.traffic };
  const fill = (key: keyof TrafficLimits, option: string, candidates: Array<[Profile, number | null | undefined]>): void => {
    if (traffic[key] !== undefined) return;
    const known = candidates.filter((c): c is [Profile, number] => c[1] != null);
    if (known.length === 0) return;
    const [from, value] = known.reduce((a, b) => (b[1] < a[1] ? b : a));
    traffic[key] = value;
    notices.push(`profile ${from.name}: ${option} ${value} (give the option to change it)`);
  };
  fill('maxMessagesPerSecond', '--max-messages-per-second', [[source, source.limits.messagesPerSecond], [dest, dest.limits.messagesPerSecond]]);
  fill('maxBytesPerSecond', '--max-bytes-per-second', [[source, source.limits.bytesPerSecondDown], [dest, dest.limits.bytesPerSecondUp]]);
  fill('dailyDown', '--daily-limit-down', [[source, source.limits.dailyBytesDown]]);
  fill('dailyUp', '--daily-limit-up', [[dest, dest.limits.dailyBytesUp]]);

  return { connections, selection: { ...requested.selection, exclude, map }, traffic, notices };
}

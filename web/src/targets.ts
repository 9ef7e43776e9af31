// Which bundle targets (js, go) publishing offers, and which one is chosen.
// The server says in /info what it can build right now (Go needs the Go
// toolchain); the last choice is remembered per flow, because the publish
// panel is unmounted whenever another tab is shown.
import type { BundleTarget, Info } from './types';

/** What a server that does not report bundle_targets (or whose /info failed) offers. */
const FALLBACK: BundleTarget[] = [
  { name: 'js', available: true },
  { name: 'go', available: true },
];

export function bundleTargets(info: Info | null | undefined): BundleTarget[] {
  const ts = info?.bundle_targets;
  return Array.isArray(ts) && ts.length ? ts : FALLBACK;
}

export function targetLabel(name: string): string {
  return name === 'js' ? 'JavaScript' : name === 'go' ? 'Go' : name;
}

/**
 * The target to show as chosen: the remembered one while the server can
 * build it, else the first one it can build (js on every server).
 */
export function chooseTarget(remembered: string | null | undefined, targets: BundleTarget[]): string {
  if (remembered && targets.some((t) => t.name === remembered && t.available)) return remembered;
  return targets.find((t) => t.available)?.name ?? 'js';
}

const key = (flow: string) => `flowline.publish-target.${flow}`;

export function loadTarget(flow: string): string | null {
  try {
    return localStorage.getItem(key(flow));
  } catch {
    return null;
  }
}

export function saveTarget(flow: string, target: string) {
  try {
    localStorage.setItem(key(flow), target);
  } catch {
    /* storage full or disabled: the choice is a convenience */
  }
}

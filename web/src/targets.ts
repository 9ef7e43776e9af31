// Which bundle targets (js, go) publishing offers, and which one is chosen.
// The server says in /info what it can build right now (Go needs the Go
// toolchain); the last choice is remembered, because the publish panel is
// unmounted whenever another tab is shown.
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

// The choice is remembered per flow, and the last one made on any flow is
// where a new flow starts, so a new flow does not fall back to JavaScript
// for someone who always builds Go.
type KV = Pick<Storage, 'getItem' | 'setItem'>;

const flowKey = (flow: string) => `flowline.publish-target.${flow}`;
const LAST_KEY = 'flowline.publish-target-last';

function storage(): KV | null {
  try {
    return localStorage;
  } catch {
    return null;
  }
}

export function rememberedTarget(flow: string, kv: KV | null = storage()): string | null {
  try {
    return kv?.getItem(flowKey(flow)) || kv?.getItem(LAST_KEY) || null;
  } catch {
    return null;
  }
}

export function rememberTarget(flow: string, target: string, kv: KV | null = storage()) {
  try {
    kv?.setItem(flowKey(flow), target);
    kv?.setItem(LAST_KEY, target);
  } catch {
    /* storage full or disabled: the choice is a convenience */
  }
}

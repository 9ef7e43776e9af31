// Which publish target (js, go) a flow starts with: the one last chosen for
// it, else the last one chosen on any flow, so a new flow does not fall back
// to JavaScript for someone who always builds Go. Kept in localStorage; the
// per-flow key is the one targets.ts always used.
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

// What differs between the saved flow, its newest version and what runs, as
// pills ("changes not published", "published, not deployed", "live: v3");
// the flows list and the Publish tab show the same words.
import type { Badge } from '../../drift';

export function DriftBadges({ badges }: { badges: Badge[] }) {
  return (
    <>
      {badges.map((b) => (
        <span key={b.kind} className={`pill drift drift-${b.kind}`} title={b.detail} data-testid={`drift-${b.kind}`}>
          {b.text}
        </span>
      ))}
    </>
  );
}

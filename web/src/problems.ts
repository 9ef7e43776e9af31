// Pure helpers over validation problems: errors and warnings come in one
// list from the server; only errors stop a publish, so the designer counts,
// orders and styles the two apart.
import type { Problem, Severity } from './types';

/** A problem without a severity is an error (servers before warnings existed). */
export function severityOf(p: Problem): Severity {
  return p.severity === 'warning' ? 'warning' : 'error';
}

export const isError = (p: Problem) => severityOf(p) === 'error';
export const isWarning = (p: Problem) => severityOf(p) === 'warning';

export interface ProblemCounts {
  errors: number;
  warnings: number;
}

export function countProblems(ps: readonly Problem[]): ProblemCounts {
  let warnings = 0;
  for (const p of ps) if (isWarning(p)) warnings++;
  return { errors: ps.length - warnings, warnings };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** "1 error, 2 warnings", "3 errors", "1 warning" or "No problems". */
export function problemSummary(ps: readonly Problem[]): string {
  const { errors, warnings } = countProblems(ps);
  const parts: string[] = [];
  if (errors) parts.push(plural(errors, 'error'));
  if (warnings) parts.push(plural(warnings, 'warning'));
  return parts.length ? parts.join(', ') : 'No problems';
}

/** Errors first, then warnings; the server's order within each (stable). */
export function errorsFirst(ps: readonly Problem[]): Problem[] {
  return [...ps.filter(isError), ...ps.filter(isWarning)];
}

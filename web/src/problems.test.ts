import { describe, expect, it } from 'vitest';
import { countProblems, errorsFirst, isError, isWarning, problemSummary, severityOf } from './problems';
import { toProblem } from './api';
import type { Problem } from './types';

const err = (message: string, node = 'n'): Problem => ({ node, field: '', message, severity: 'error' });
const warn = (message: string, node = 'n'): Problem => ({ node, field: '', message, severity: 'warning' });
const bare = (message: string): Problem => ({ node: 'n', field: '', message });

describe('severity', () => {
  it('treats a missing severity as an error', () => {
    expect(severityOf(bare('x'))).toBe('error');
    expect(isError(bare('x'))).toBe(true);
    expect(isWarning(bare('x'))).toBe(false);
  });
  it('reads the server answer, anything but "warning" being an error', () => {
    expect(toProblem({ node: 'a', field: 'retries', message: 'no effect', severity: 'warning' }).severity).toBe('warning');
    expect(toProblem({ node: 'a', field: 'url', message: 'required', severity: 'error' }).severity).toBe('error');
    expect(toProblem({ node: 'a', field: 'url', message: 'required' }).severity).toBe('error');
    expect(toProblem({ message: 'x', severity: 'info' }).severity).toBe('error');
    expect(toProblem('plain text').severity).toBe('error');
  });
});

describe('counting', () => {
  it('counts errors and warnings apart', () => {
    expect(countProblems([])).toEqual({ errors: 0, warnings: 0 });
    expect(countProblems([err('a'), warn('b'), warn('c'), bare('d')])).toEqual({ errors: 2, warnings: 2 });
  });
  it('says it in words, singular and plural', () => {
    expect(problemSummary([])).toBe('No problems');
    expect(problemSummary([err('a')])).toBe('1 error');
    expect(problemSummary([err('a'), bare('b')])).toBe('2 errors');
    expect(problemSummary([warn('a')])).toBe('1 warning');
    expect(problemSummary([warn('a'), err('b'), warn('c')])).toBe('1 error, 2 warnings');
    expect(problemSummary([err('a'), err('b'), warn('c')])).toBe('2 errors, 1 warning');
  });
});

describe('order', () => {
  it('lists errors first and keeps the server order within each', () => {
    const ps = [warn('w1'), err('e1'), warn('w2'), bare('e2')];
    expect(errorsFirst(ps).map((p) => p.message)).toEqual(['e1', 'e2', 'w1', 'w2']);
    expect(ps.map((p) => p.message)).toEqual(['w1', 'e1', 'w2', 'e2']);
  });
});

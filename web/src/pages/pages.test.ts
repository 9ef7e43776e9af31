import { describe, expect, it } from 'vitest';
import { ApiError } from '../api';
import { signInError } from './SignInPage';
import { appendPage } from './AuditPage';
import type { AuditEntry } from '../types';

describe('sign-in errors', () => {
  it('says what went wrong in words', () => {
    expect(signInError(new ApiError(401, 'wrong name or password', null))).toBe('Wrong name or password.');
    expect(signInError(new ApiError(429, 'too many sign-in attempts; wait a little', null, 6))).toBe('Too many sign-in attempts from here. Wait 6 seconds, then try again.');
    expect(signInError(new ApiError(429, 'too many', null, 1))).toContain('Wait 1 second,');
    expect(signInError(new ApiError(429, 'too many', null))).toContain('Wait a little');
    expect(signInError(new ApiError(0, 'cannot reach the server: Failed to fetch', null))).toBe('The server cannot be reached: Failed to fetch');
    expect(signInError(new ApiError(403, 'requests from origin "x" are refused', null))).toBe('requests from origin "x" are refused');
  });
});

describe('audit paging', () => {
  const e = (id: string, at: string): AuditEntry => ({ id, at, actor: 'admin', action: 'publish', target: 'f', detail: '' });
  it('appends older entries and drops ones already shown', () => {
    const shown = [e('3', '2025-01-03T00:00:00Z'), e('2', '2025-01-02T00:00:00Z')];
    const older = [e('2', '2025-01-02T00:00:00Z'), e('1', '2025-01-01T00:00:00Z')];
    expect(appendPage(shown, older).map((x) => x.id)).toEqual(['3', '2', '1']);
    expect(appendPage([], older).map((x) => x.id)).toEqual(['2', '1']);
  });
});

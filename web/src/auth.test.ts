import { describe, expect, it } from 'vitest';
import { MAX_PASSWORD_BYTES, VIEWER_REASON, canEdit, editBlockReason, isAdmin, passwordProblem, randomPassword, roleAtLeast } from './auth';
import type { User } from './types';

const user = (role: string): User => ({ id: role, name: role, role, must_change_password: false, disabled: false });

describe('roles', () => {
  it('orders viewer < editor < admin', () => {
    expect(roleAtLeast('viewer', 'viewer')).toBe(true);
    expect(roleAtLeast('viewer', 'editor')).toBe(false);
    expect(roleAtLeast('editor', 'editor')).toBe(true);
    expect(roleAtLeast('editor', 'admin')).toBe(false);
    expect(roleAtLeast('admin', 'viewer')).toBe(true);
    expect(roleAtLeast('admin', 'admin')).toBe(true);
  });
  it('puts an unknown or missing role below everything', () => {
    expect(roleAtLeast('owner', 'viewer')).toBe(false);
    expect(roleAtLeast('', 'viewer')).toBe(false);
    expect(roleAtLeast(undefined, 'viewer')).toBe(false);
    expect(roleAtLeast('Admin', 'viewer')).toBe(false); // roles are lower case on the wire
  });
  it('lets editors and admins change flows, and only admins manage users', () => {
    expect([user('viewer'), user('editor'), user('admin')].map(canEdit)).toEqual([false, true, true]);
    expect([user('viewer'), user('editor'), user('admin')].map(isAdmin)).toEqual([false, false, true]);
    expect(canEdit(null)).toBe(false);
    expect(isAdmin(undefined)).toBe(false);
  });
  it('gives the reason a viewer may not change flows, and none to an editor', () => {
    expect(editBlockReason(user('viewer'))).toBe(VIEWER_REASON);
    expect(VIEWER_REASON).toMatch(/viewers can read flows; ask an admin for the editor role/i);
    expect(editBlockReason(null)).toBe(VIEWER_REASON);
    expect(editBlockReason(user('editor'))).toBe('');
    expect(editBlockReason(user('admin'))).toBe('');
  });
});

describe('new passwords', () => {
  it('needs at least 10 characters', () => {
    expect(passwordProblem('')).toMatch(/at least 10/);
    expect(passwordProblem('123456789')).toMatch(/at least 10/);
    expect(passwordProblem('1234567890')).toBe('');
  });
  it('counts at most 72 bytes, as bcrypt does', () => {
    expect(passwordProblem('a'.repeat(MAX_PASSWORD_BYTES))).toBe('');
    expect(passwordProblem('a'.repeat(MAX_PASSWORD_BYTES + 1))).toMatch(/at most 72 bytes/);
    // 25 characters of 3 bytes each: short enough to read, too long for bcrypt.
    expect(passwordProblem('€'.repeat(25))).toMatch(/at most 72 bytes/);
    expect(passwordProblem('€'.repeat(24))).toBe('');
  });
  it('never lets through what the server refuses: 10 characters of several bytes each pass both checks', () => {
    expect(passwordProblem('ééééééééé')).toMatch(/at least/); // 9 characters, 18 bytes
    expect(passwordProblem('éééééééééé')).toBe('');
  });
  it('generates passwords the server takes', () => {
    const a = randomPassword();
    expect(a).toHaveLength(16);
    expect(passwordProblem(a)).toBe('');
    expect(randomPassword()).not.toBe(a);
    expect(a).toMatch(/^[a-km-zA-HJ-NP-Z2-9]+$/);
  });
});

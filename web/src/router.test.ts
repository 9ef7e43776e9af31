import { describe, expect, it } from 'vitest';
import { parseRoute, passwordHref, safeNext, signinHref } from './router';

describe('routes', () => {
  it('parses the pages', () => {
    expect(parseRoute('')).toEqual({ page: 'flows' });
    expect(parseRoute('#/')).toEqual({ page: 'flows' });
    expect(parseRoute('#/flows/order-summary')).toEqual({ page: 'editor', name: 'order-summary' });
    expect(parseRoute('#/tokens')).toEqual({ page: 'tokens' });
    expect(parseRoute('#/users')).toEqual({ page: 'users' });
    expect(parseRoute('#/audit')).toEqual({ page: 'audit' });
    expect(parseRoute('#/signin')).toEqual({ page: 'signin', next: '#/' });
    expect(parseRoute('#/password')).toEqual({ page: 'password', next: '#/' });
    expect(parseRoute('#/nowhere')).toEqual({ page: 'flows' });
  });
  it('reads where to go after signing in', () => {
    expect(parseRoute('#/signin?next=%23%2Fflows%2Fabc')).toEqual({ page: 'signin', next: '#/flows/abc' });
    expect(parseRoute('#/password?next=%23%2Ftokens')).toEqual({ page: 'password', next: '#/tokens' });
  });
  it('survives a badly encoded flow name', () => {
    expect(parseRoute('#/flows/%E0%A4%A')).toEqual({ page: 'editor', name: '%E0%A4%A' });
  });
});

describe('coming back after signing in', () => {
  it('keeps the page the user was on', () => {
    expect(signinHref('#/flows/order-summary')).toBe('#/signin?next=%23%2Fflows%2Forder-summary');
    expect(parseRoute(signinHref('#/flows/order-summary'))).toEqual({ page: 'signin', next: '#/flows/order-summary' });
    expect(parseRoute(signinHref('#/flows/a%20b'))).toEqual({ page: 'signin', next: '#/flows/a%20b' });
    expect(signinHref('#/users')).toBe('#/signin?next=%23%2Fusers');
  });
  it('needs no next for the flows list', () => {
    expect(signinHref('')).toBe('#/signin');
    expect(signinHref('#/')).toBe('#/signin');
  });
  it('does not nest: already on the sign-in page, the address stays', () => {
    const h = signinHref('#/flows/x');
    expect(signinHref(h)).toBe(h);
  });
  it('carries the destination between the sign-in page and the password form', () => {
    const signin = signinHref('#/flows/x');
    const pw = passwordHref(signin);
    expect(pw).toBe('#/password?next=%23%2Fflows%2Fx');
    expect(passwordHref(pw)).toBe(pw);
    expect(signinHref(pw)).toBe(signin);
    expect(passwordHref('#/tokens')).toBe('#/password?next=%23%2Ftokens');
  });
  it('only goes back into the app, and never to the sign-in or password page', () => {
    expect(safeNext('#/flows/x')).toBe('#/flows/x');
    expect(safeNext(null)).toBe('#/');
    expect(safeNext('')).toBe('#/');
    expect(safeNext('https://evil.example/')).toBe('#/');
    expect(safeNext('//evil.example')).toBe('#/');
    expect(safeNext('javascript:alert(1)')).toBe('#/');
    expect(safeNext('#/signin')).toBe('#/');
    expect(safeNext('#/signin?next=%23%2Fsignin')).toBe('#/');
    expect(safeNext('#/password')).toBe('#/');
    expect(safeNext('#/' + 'a'.repeat(3000))).toBe('#/');
    expect(parseRoute('#/signin?next=https%3A%2F%2Fevil.example')).toEqual({ page: 'signin', next: '#/' });
    expect(parseRoute('#/signin?next=%23%2Fsignin')).toEqual({ page: 'signin', next: '#/' });
  });
});

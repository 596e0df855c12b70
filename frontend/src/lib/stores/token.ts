/** The admin token for writes, kept in localStorage once the person has typed it. */
import type { TokenStore } from '../api/client';

export const TOKEN_KEY = 'netpulse.token';

export const tokenStore: TokenStore = {
  get() {
    try {
      return localStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  },
  set(token: string) {
    try {
      localStorage.setItem(TOKEN_KEY, token);
    } catch {
      // Not persisted; the next write will ask again.
    }
  },
};

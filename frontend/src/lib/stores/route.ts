/** Hash routes: #/ is the dashboard, #/settings the settings page. */
export type Route = 'dashboard' | 'settings';

export function routeFromHash(hash: string): Route {
  return /^#\/?settings\/?(\?.*)?$/.test(hash) ? 'settings' : 'dashboard';
}

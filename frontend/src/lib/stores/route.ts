/** Hash routes: #/ is the dashboard, #/usage the usage view, #/settings the settings page. */
export type Route = 'dashboard' | 'usage' | 'settings';

export function routeFromHash(hash: string): Route {
  if (/^#\/?settings\/?(\?.*)?$/.test(hash)) return 'settings';
  if (/^#\/?usage\/?(\?.*)?$/.test(hash)) return 'usage';
  return 'dashboard';
}

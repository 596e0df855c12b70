/** Hash routes: #/ is the dashboard, #/usage the usage view, #/settings the settings page. */
export type Route = 'dashboard' | 'usage' | 'settings' | 'qos';

export function routeFromHash(hash: string): Route {
  if (/^#\/?settings\/?(\?.*)?$/.test(hash)) return 'settings';
  if (/^#\/?usage\/?(\?.*)?$/.test(hash)) return 'usage';
  if (/^#\/?qos\/?(\?.*)?$/.test(hash)) return 'qos';
  return 'dashboard';
}

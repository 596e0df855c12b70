/** Hash routes: #/ is the dashboard, #/usage the usage view, #/hosts the per-host totals, #/flows the live flows, #/qos the QoS page, #/settings the settings page. */
export type Route = 'dashboard' | 'usage' | 'hosts' | 'flows' | 'qos' | 'settings';

export function routeFromHash(hash: string): Route {
  if (/^#\/?settings\/?(\?.*)?$/.test(hash)) return 'settings';
  if (/^#\/?usage\/?(\?.*)?$/.test(hash)) return 'usage';
  if (/^#\/?hosts\/?(\?.*)?$/.test(hash)) return 'hosts';
  if (/^#\/?flows\/?(\?.*)?$/.test(hash)) return 'flows';
  if (/^#\/?qos\/?(\?.*)?$/.test(hash)) return 'qos';
  return 'dashboard';
}

/** The current hash route as reactive state. */
import { routeFromHash, type Route } from './route';

export const router: { route: Route } = $state({ route: routeFromHash(location.hash) });

window.addEventListener('hashchange', () => {
  router.route = routeFromHash(location.hash);
});

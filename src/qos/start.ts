/**
 * The server's entry into QoS, imported only with NETPULSE_QOS=on: the service wired to the data cap
 * (the fallback throttle's signal) and to the interfaces' link speeds.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { AlertsService } from '../services/alerts-service.js';
import type { InterfacesService } from '../services/interfaces-service.js';
import type { ConfigRepo } from '../storage/config-repo.js';
import { createQosService, type QosService } from './qos-service.js';

export async function startQos(deps: { configRepo: ConfigRepo; logger: FastifyBaseLogger; now: () => number; interfaces: InterfacesService; alerts: AlertsService }): Promise<QosService> {
  return createQosService({
    configRepo: deps.configRepo,
    logger: deps.logger,
    now: deps.now,
    linkSpeedMbps: (name) => deps.interfaces.speedMbps(name),
    throttleSignal: async () => {
      const s = await deps.alerts.status();
      if (s === null) return null;
      return { period: s.periodLabel, overCap: s.projectedBytes !== null && s.projectedBytes > s.limitBytes };
    },
  });
}

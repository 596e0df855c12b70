/** The MQTT publisher wired to a running server's services (imported by the server only when MQTT is on). */
import type { AppContext } from '../api/context.js';
import type { MqttConfig } from '../config/config.js';
import type { Logger } from '../shared/logger.js';
import { startMqttPublisher, type MqttPublisher } from './mqtt-publisher.js';
import { readMqttSnapshot } from './mqtt-values.js';

const PUBLISHED_KEY = 'mqtt_discovery_objects';

export function startServerMqtt(ctx: AppContext, config: MqttConfig, options: { logger: Logger; url: string | null }): MqttPublisher {
  return startMqttPublisher({
    config,
    identity: { deviceId: ctx.device.deviceId, deviceName: ctx.device.name, version: ctx.version, url: options.url },
    logger: options.logger,
    hasCap: () => ctx.alerts.getCap().limitBytes !== null,
    published: {
      load: () => ctx.configRepo.get<string[]>(PUBLISHED_KEY) ?? [],
      save: (ids) => ctx.configRepo.set(PUBLISHED_KEY, ids),
    },
    snapshot: () =>
      readMqttSnapshot({
        monitored: () => ctx.settings.monitoredList(),
        latest: () => ctx.traffic.latest(null),
        summary: (name) => ctx.usage.summary(name),
        capStatus: () => ctx.alerts.status(),
        collector: () => ctx.collector.stats(),
      }),
  });
}
